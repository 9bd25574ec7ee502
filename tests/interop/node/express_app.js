// express_app.js - a real Express 5 app with express-session and
// connect-redis 7 on a real Redis, for the interop test.
// Env: REDIS_PORT, SECRETS (JSON array: the first signs, all verify),
// PORT_FILE (the app writes its port there once it listens).
//   GET /login?user_id=42&username=alice  logs in (sets connect.sid)
//   GET /whoami  {"sid", "user_id", "username", "expires"} of the session
'use strict';
const fs = require('fs');
const express = require('express');
const session = require('express-session');
const RedisStore = require('connect-redis').default;
const { createClient } = require('redis');

async function main() {
  const client = createClient({ url: `redis://127.0.0.1:${process.env.REDIS_PORT}` });
  await client.connect();
  const app = express();
  app.use(session({
    store: new RedisStore({ client, prefix: 'sess:' }),
    secret: JSON.parse(process.env.SECRETS),
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: 3600 * 1000, httpOnly: true, path: '/' },
  }));
  app.get('/login', (req, res) => {
    req.session.user_id = Number(req.query.user_id);
    req.session.username = req.query.username;
    res.json({ sid: req.sessionID });
  });
  app.get('/whoami', (req, res) => {
    res.json({
      sid: req.sessionID,
      user_id: req.session.user_id ?? null,
      username: req.session.username ?? null,
      expires: req.session.cookie.expires,
    });
  });
  const server = app.listen(0, '127.0.0.1', () => {
    fs.writeFileSync(process.env.PORT_FILE, String(server.address().port));
  });
  const stop = () => { server.close(); client.quit().finally(() => process.exit(0)); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => { console.error(e); process.exit(1); });
