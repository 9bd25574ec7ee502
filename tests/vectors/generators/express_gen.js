// Express vectors: express-session + connect-redis against a real redis-server it starts on
// 127.0.0.1:$SB_VECTORS_REDIS_PORT (default 16399; stopped at the end), plus cookie-signature and cookie-parser directly.
// Needs, in NODE_PATH or ./node_modules: express express-session connect-redis@7 redis@4
// cookie-signature cookie-parser. Prints a JSON list of vectors on stdout.
'use strict';
const { spawn } = require('child_process');
const http = require('http');
const express = require('express');
const session = require('express-session');
const RedisStore = require('connect-redis').default;
const { createClient } = require('redis');
const sig = require('cookie-signature');
const cookieParser = require('cookie-parser');

const SECRET = 's3cr3t-test-key';
const OLD_SECRET = 'old-test-key';
const PORT = Number(process.env.SB_VECTORS_REDIS_PORT || 16399);
// express-session and connect-redis read the clock through Date.now(): fixed
// here (2026-11-22T10:30:17.557Z, when these vectors were first made) so
// cookie.expires, the Set-Cookie Expires and the Redis TTL are the same on
// every run.
const GEN_NOW_MS = 1795343417557;
Date.now = () => GEN_NOW_MS;
const SID = 'Xq3RfZ2vN8kLpW4tY7uB1cD5eG9hJ0mA';      // 32 chars, like uid-safe(24)
const SID2 = 'oldSecretSid0000000000000000000000'.slice(0, 32);
const fs = require('fs');
const path = require('path');
function ver(p) { // walk up from the resolved entry point to the package's own package.json
  let d = path.dirname(require.resolve(p));
  for (;;) {
    const f = path.join(d, 'package.json');
    if (fs.existsSync(f)) { const j = JSON.parse(fs.readFileSync(f, 'utf8')); if (j.name === p) return `${p} ${j.version}`; }
    d = path.dirname(d);
  }
}
const VERSIONS = ['express', 'express-session', 'connect-redis', 'cookie-signature', 'cookie-parser', 'redis']
  .map(ver).join(', ') + `, node ${process.version}, redis-server (Debian)`;

function request(port, path, cookie) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: cookie ? { Cookie: cookie } : {} }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let redis = null;   // our own redis-server child, stopped on success and on error

async function main() {
  redis = spawn('redis-server', ['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 400));
  const client = createClient({ url: `redis://127.0.0.1:${PORT}` });
  await client.connect();
  await client.flushAll();
  const store = new RedisStore({ client });
  let nextSid = SID;
  const app = express();
  app.use(session({
    store, secret: [SECRET, OLD_SECRET], resave: false, saveUninitialized: false,
    genid: () => nextSid, cookie: { maxAge: 86400000, httpOnly: true, path: '/' },
  }));
  app.get('/login', (req, res) => { req.session.user_id = 42; req.session.username = 'alice'; res.json({ sid: req.sessionID }); });
  app.get('/whoami', (req, res) => res.json({ sid: req.sessionID, user_id: req.session.user_id || null }));
  app.use(cookieParser(SECRET));
  app.get('/prefs', (req, res) => { res.cookie('prefs', { theme: 'dark' }, { signed: true }); res.json({}); });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.on('listening', r));
  const port = server.address().port;

  const vectors = [];
  const params = { secret: SECRET, secrets_verify: [SECRET, OLD_SECRET], algorithm: 'HMAC-SHA256, base64 std, "=" stripped',
    store_prefix: 'sess:', default_ttl_s: 86400 };

  // 1. plain login
  const r1 = await request(port, '/login');
  const setCookie = r1.headers['set-cookie'][0];
  const wire = setCookie.split(';')[0].split('=').slice(1).join('=');
  const decoded = decodeURIComponent(wire);
  const key = 'sess:' + SID;
  const stored = await client.get(key);
  const ttl = await client.ttl(key);
  const check1 = JSON.parse((await request(port, '/whoami', 'connect.sid=' + wire)).body);
  if (check1.user_id !== 42) throw new Error('cookie not accepted');
  if (decoded !== 's:' + sig.sign(SID, SECRET)) throw new Error('sign mismatch');
  vectors.push({ format: 'express', name: 'express-plain', cookie_name: 'connect.sid', secret_or_key_params: params,
    token: decoded, token_on_wire: wire, expected_payload: JSON.parse(stored), expected_payload_json: stored,
    redis_key: key, redis_ttl_s: ttl, set_cookie_header: setCookie, expect: 'valid', verified_with: VERSIONS,
    notes: 'Cookie value is "s:" + sid + "." + base64(HMAC-SHA256(secret, sid)) without "="; on the wire it is ' +
      'URI-encoded (":" -> %3A, "+" -> %2B, "/" -> %2F). Redis holds JSON under sess:<sid> with EX = ' +
      'ceil((cookie.expires - now)/1000).' });

  nextSid = 'freshSidNeverStored0000000000000';   // any later new session gets this id
  // 2. signed with the second (older) secret: still accepted
  await client.set('sess:' + SID2, stored, { EX: 3600 });
  const old = 's:' + sig.sign(SID2, OLD_SECRET);
  const check2 = JSON.parse((await request(port, '/whoami', 'connect.sid=' + encodeURIComponent(old))).body);
  if (check2.sid !== SID2 || check2.user_id !== 42) throw new Error('rotation failed');
  vectors.push({ format: 'express', name: 'express-rotated-secret', cookie_name: 'connect.sid', secret_or_key_params: { ...params, signed_with: OLD_SECRET },
    token: old, token_on_wire: encodeURIComponent(old), expected_payload: JSON.parse(stored), redis_key: 'sess:' + SID2,
    expect: 'valid', verified_with: VERSIONS,
    notes: 'express-session signs with secret[0] and tries every secret in the list when unsigning.' });

  // 3. expired: connect-redis refuses to store a session whose cookie.expires is past
  const SID3 = 'expiredSid000000000000000000000x';
  const past = JSON.parse(stored);
  past.cookie.expires = new Date(1790035200 * 1000).toISOString();      // T_OLD
  await new Promise((res, rej) => store.set(SID3, past, (e) => (e ? rej(e) : res())));
  const exists3 = await client.exists('sess:' + SID3);
  const tok3 = 's:' + sig.sign(SID3, SECRET);
  const check3 = JSON.parse((await request(port, '/whoami', 'connect.sid=' + encodeURIComponent(tok3))).body);
  if (exists3 !== 0 || check3.user_id !== null) throw new Error('expired session was kept');
  vectors.push({ format: 'express', name: 'express-expired', cookie_name: 'connect.sid', secret_or_key_params: params,
    token: tok3, token_on_wire: encodeURIComponent(tok3), expected_payload: null, rejected_store_value: past,
    timestamp: 1790035200, expect: 'expired', verified_with: VERSIONS,
    notes: 'Signature is valid but the session is gone: connect-redis set() with cookie.expires=' + past.cookie.expires +
      ' computes ttl <= 0 and DELetes sess:<sid> instead of writing. express-session itself never checks ' +
      'cookie.expires for external stores; Redis TTL is the only expiry.' });

  // 4. tampered signature
  const bad = decoded.slice(0, -3) + (decoded.slice(-3) === 'AAA' ? 'BBB' : 'AAA');
  const check4 = JSON.parse((await request(port, '/whoami', 'connect.sid=' + encodeURIComponent(bad))).body);
  if (check4.user_id !== null || check4.sid === SID) throw new Error('tampered accepted');
  if (sig.unsign(bad.slice(2), SECRET) !== false) throw new Error('unsign accepted');
  vectors.push({ format: 'express', name: 'express-tampered', cookie_name: 'connect.sid', secret_or_key_params: params,
    token: bad, token_on_wire: encodeURIComponent(bad), expected_payload: null, expect: 'bad_signature', verified_with: VERSIONS,
    notes: 'Last 3 signature characters changed: express-session ignores the cookie and starts a new session.' });

  // 5. cookie-parser signed JSON cookie (s: + j: prefixes)
  const r5 = await request(port, '/prefs');
  const pc = r5.headers['set-cookie'][0];
  const pwire = pc.split(';')[0].split('=').slice(1).join('=');
  const pdec = decodeURIComponent(pwire);
  const parsed = cookieParser.JSONCookie(cookieParser.signedCookie(pdec, SECRET));
  vectors.push({ format: 'express', name: 'express-cookie-parser-json', cookie_name: 'prefs', secret_or_key_params: { secret: SECRET },
    token: pdec, token_on_wire: pwire, expected_payload: parsed, expect: 'valid', verified_with: VERSIONS,
    notes: 'res.cookie(name, object, {signed:true}): value "j:" + JSON.stringify(obj), then "s:" + cookie-signature. ' +
      'Not a session store format, shown because the same HMAC scheme is used.' });

  server.close();
  await client.quit();
  redis.kill('SIGTERM');
  process.stdout.write(JSON.stringify(vectors, null, 2) + '\n');
}

main().catch((e) => { console.error(e); if (redis) redis.kill('SIGTERM'); process.exit(1); });
