// jwt_cli.js - jsonwebtoken 9 from the command line, for the interop test.
//   node jwt_cli.js sign ALG KEYFILE KID ISS AUD CLAIMS_JSON   -> token
//   node jwt_cli.js verify ALG KEYFILE ISS AUD TOLERANCE TOKEN -> payload JSON
//     or {"error": "<jsonwebtoken error name>", "message": ...}
// KEYFILE: for HS* the first line of a secrets file; for RS*/ES* a PEM
// (private to sign, public to verify).  ISS/AUD "-" means not checked.
'use strict';
const fs = require('fs');
const jwt = require('jsonwebtoken');

function key(alg, file) {
  const text = fs.readFileSync(file, 'utf8');
  return alg.startsWith('HS') ? text.split('\n')[0] : text;
}

const [cmd, alg, file, ...rest] = process.argv.slice(2);
if (cmd === 'sign') {
  const [kid, iss, aud, claims] = rest;
  const opts = { algorithm: alg, noTimestamp: true };
  if (kid !== '-') opts.keyid = kid;
  if (iss !== '-') opts.issuer = iss;
  if (aud !== '-') opts.audience = aud;
  process.stdout.write(jwt.sign(JSON.parse(claims), key(alg, file), opts) + '\n');
} else if (cmd === 'verify') {
  const [iss, aud, tolerance, token] = rest;
  const opts = { algorithms: [alg], clockTolerance: Number(tolerance) };
  if (iss !== '-') opts.issuer = iss;
  if (aud !== '-') opts.audience = aud;
  try {
    process.stdout.write(JSON.stringify(jwt.verify(token, key(alg, file), opts)) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: e.name, message: e.message }) + '\n');
    process.exitCode = 1;
  }
} else {
  process.stderr.write('usage: jwt_cli.js sign|verify ...\n');
  process.exitCode = 2;
}
