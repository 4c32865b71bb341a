// Reference-client check: real GraphQL client libraries against a running Tongxing server.
// graphql-http audits the server against the GraphQL-over-HTTP spec; graphql-js loads the
// schema with the standard introspection query, as GraphiQL and code generators do.
// Apollo Client (with automatic persisted queries over GET) registers a volunteer and browses
// the feed; graphql-ws subscribes to a shift; the volunteer signs up and the subscriber sees
// the count change; the demo fund's offline gifts are counted, and an online donation without a
// payment provider is refused. Usage: node check.mjs http://127.0.0.1:8080   (exit 0 = passed)
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core/index.js';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries/index.js';
import { buildClientSchema, getIntrospectionQuery, printSchema } from 'graphql';
import { serverAudits } from 'graphql-http';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const fail = (msg) => {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
};

// Every request the HTTP link makes, to prove persisted queries were used.
const requests = [];
const recordingFetch = (url, init) => {
  requests.push({ method: init?.method ?? 'GET', url: String(url), body: init?.body ?? '' });
  return fetch(url, init);
};

const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');
const apollo = new ApolloClient({
  link: createPersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
    new HttpLink({ uri: `${base}/graphql`, fetch: recordingFetch }),
  ),
  cache: new InMemoryCache(),
});

// graphql-http's audit of the GraphQL-over-HTTP spec: no error and no warning (notices are
// MAYs the server chose otherwise on).
{
  const results = [];
  for (const audit of serverAudits({ url: `${base}/graphql` })) {
    results.push({ id: audit.id, name: audit.name, ...(await audit.fn()) });
  }
  const bad = results.filter((r) => r.status === 'error' || r.status === 'warn');
  for (const r of bad) console.error(r.status, r.id, r.name, r.reason);
  if (bad.length) fail(`graphql-http audit: ${bad.length} warnings or errors`);
  const counts = {};
  for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  console.log('graphql-http audit:', JSON.stringify(counts));
}

// What GraphiQL, GraphQL Codegen, Altair, Postman and Insomnia do first: the standard
// introspection query with every option, and a client schema built from the answer.
{
  const query = getIntrospectionQuery({
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
    oneOf: true,
  });
  const resp = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, operationName: 'IntrospectionQuery' }),
  });
  const body = await resp.json();
  if (body.errors) fail(`introspection: ${JSON.stringify(body.errors)}`);
  const schema = buildClientSchema(body.data);
  if (!schema.getQueryType() || schema.getQueryType().name !== 'QueryRoot') fail('no QueryRoot');
  if (!schema.getType('Shift')) fail('introspection lacks Shift');
  console.log(`introspection: buildClientSchema read ${printSchema(schema).length} characters of SDL`);
}

const phone = `137${String(Date.now()).slice(-8)}`;
// The number is proven by the code the server texts to it: in development the server appends
// each text to its SMS outbox file (TONGXING_SMS_SENDER=file:…), which this check reads.
await apollo.mutate({
  mutation: gql`
    mutation Ask($p: String!) {
      requestPhoneCode(phone: $p, purpose: REGISTER) { expiresAt }
    }
  `,
  variables: { p: phone },
});
const outbox = process.env.SMS_OUTBOX;
if (!outbox) fail('set SMS_OUTBOX to the server\'s SMS outbox file');
const texts = (await import('node:fs')).readFileSync(outbox, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const text = texts.reverse().find((m) => m.phone.endsWith(phone));
if (!text) fail(`no text message to ${phone}`);
const smsCode = text.text.match(/\d{6}/)[0];
const registered = await apollo.mutate({
  mutation: gql`
    mutation Register($i: RegisterInput!) {
      register(input: $i) { accessToken account { id } }
    }
  `,
  variables: { i: { phone, password: 'reference client pw', displayName: '参考客户端', smsCode } },
});
const token = registered.data.register.accessToken;
const auth = { headers: { authorization: `Bearer ${token}` } };
console.log('registered', phone);

const FEED = gql`
  query Feed {
    shifts(first: 20, filter: { hasOpenSlots: true }) {
      edges { node { id title confirmedCount remainingSlots } }
    }
  }
`;
const browse = () => apollo.query({ query: FEED, context: auth, fetchPolicy: 'network-only' });
await browse(); // the server learns the document (PersistedQueryNotFound, then hash + query)
const feed = await browse(); // now the hash alone, over GET
const last = requests[requests.length - 1];
if (last.method !== 'GET' || last.url.includes('query=') || !last.url.includes('sha256Hash')) {
  fail(`the second browse was not a hash-only GET: ${JSON.stringify(last)}`);
}
const shift = feed.data.shifts.edges.map((e) => e.node).find((s) => s.remainingSlots > 0);
if (!shift) fail('no shift with open slots in the feed (is the demo data seeded?)');
console.log('browsed with a persisted query; shift', shift.title, 'confirmed', shift.confirmedCount);

const ws = createClient({
  url: `${base.replace(/^http/, 'ws')}/graphql/ws`,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
});
const updated = new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no update within 10 s')), 10_000);
  ws.subscribe(
    {
      query: 'subscription($s: ID!) { shiftUpdated(shiftId: $s) { confirmedCount } }',
      variables: { s: shift.id },
    },
    {
      next: (msg) => {
        if (msg.errors) reject(new Error(JSON.stringify(msg.errors)));
        const n = msg.data?.shiftUpdated?.confirmedCount;
        if (n === shift.confirmedCount + 1) {
          clearTimeout(timer);
          resolve(n);
        }
      },
      error: reject,
      complete: () => {},
    },
  );
});
// Give the subscription a moment to be registered on the server, then sign up.
await new Promise((r) => setTimeout(r, 300));
const signed = await apollo.mutate({
  mutation: gql`
    mutation SignUp($s: ID!, $k: String!) {
      signUpForShift(shiftId: $s, idempotencyKey: $k) { status }
    }
  `,
  variables: { s: shift.id, k: `ref-${phone}` },
  context: auth,
});
console.log('signed up:', signed.data.signUpForShift.status);
try {
  const n = await updated;
  console.log('subscriber saw confirmedCount', n);
} catch (e) {
  fail(e.message);
} finally {
  await ws.dispose();
}
// Money: the demo's gifts were recorded offline by staff, so they are CONFIRMED and counted;
// this server has no payment provider, so an online donation is refused and nothing is written.
const funds = await apollo.query({
  query: gql`
    query Funds {
      organizations(first: 10) {
        edges { node { funds(first: 3) { id balanceFen donatedFen
          donations(first: 10) { edges { node { status channel amountFen } } } } } }
      }
    }
  `,
  fetchPolicy: 'network-only',
});
const fund = funds.data.organizations.edges.flatMap((e) => e.node.funds)[0];
if (!fund) fail('the demo has a fund');
const gifts = fund.donations.edges.map((e) => e.node);
if (gifts.length === 0 || !gifts.every((g) => g.status === 'CONFIRMED' && ['CASH', 'BANK_TRANSFER'].includes(g.channel))) {
  fail(`the demo fund's gifts are confirmed offline gifts: ${JSON.stringify(gifts)}`);
}
console.log('demo fund holds', fund.donatedFen, 'fen from', gifts.length, 'offline gifts');
try {
  await apollo.mutate({
    mutation: gql`
      mutation Donate($i: DonateInput!) { donate(input: $i) { id status } }
    `,
    variables: { i: { fundId: fund.id, amountFen: 100, idempotencyKey: `ref-d-${phone}` } },
    context: auth,
  });
  fail('an online donation without a payment provider must be refused');
} catch (e) {
  const errors = e.graphQLErrors ?? e.errors ?? [];
  if (errors[0]?.extensions?.code !== 'SERVICE_UNAVAILABLE') fail(`donate: ${e}`);
  console.log('online donation refused without a payment provider: SERVICE_UNAVAILABLE');
}
const mine = await apollo.query({
  query: gql`query Mine { myDonations(first: 5) { edges { node { id } } } }`,
  context: auth,
  fetchPolicy: 'network-only',
});
if (mine.data.myDonations.edges.length !== 0) fail('a refused donation writes nothing');
console.log('PASS: Apollo Client (persisted queries over GET) and graphql-ws work against the server');
process.exit(0);
