-- wrk script: the volunteer home feed of issue 5 — 50 open shifts near a point, each with its
-- event, organization, campaign, remaining places and the caller's sign-up.
-- TOKEN=<access token printed by the bench> wrk -t2 -c32 -d20s --latency -s benches/feed.lua http://127.0.0.1:8089/graphql
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("TOKEN")
if token then
  wrk.headers["Authorization"] = "Bearer " .. token
end
wrk.body = [[{"query":"query($n: NearInput!) { shifts(first: 50, filter: {hasOpenSlots: true, near: $n}) { edges { node { id title startsAt remainingSlots mySignup { status } event { title address organization { name } campaign { title } } } } } }","variables":{"n":{"latitude":31.38,"longitude":120.98,"radiusMeters":10000}}}]]
