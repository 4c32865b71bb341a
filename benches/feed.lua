-- wrk script: the volunteer home feed (50 open shifts near a point, with event and organization).
-- wrk -t2 -c32 -d20s --latency -s benches/feed.lua http://127.0.0.1:8089/graphql
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"query":"query($n: NearInput!) { shifts(first: 50, filter: {hasOpenSlots: true, near: $n}) { edges { node { id title startsAt remainingSlots event { title address organization { name } } } } } }","variables":{"n":{"latitude":31.38,"longitude":120.98,"radiusMeters":10000}}}]]
