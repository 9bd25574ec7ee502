/* commands.c - the table of sessionbridgectl commands and their help. */
#include "cli.h"

const struct cli_command cli_commands[] = {
    {"decode", NULL, cli_cmd_decode,
     "[--profile P] [--offline] [--now UNIX] [--client-addr A] "
     "[--user-agent UA] [TOKEN]",
     "Validates a credential as POST /v1/validate does and prints the same\n"
     "answer: {\"active\":true,\"profile\":P,\"session\":{...}} or\n"
     "{\"active\":false,\"error\":CODE,\"message\":...}.  Without\n"
     "--profile every profile is tried.  The session is checked against\n"
     "the configured Redis (revocation; an express session's data is read\n"
     "from its connect-redis record) and recorded, as the API would.\n"
     "  --offline   verify the credential alone, without Redis (revocation\n"
     "              unchecked; express data unavailable)\n"
     "The token is read from stdin when not given.  Exit 0 active, 1 not\n"
     "active, 2 usage, 3 Redis unreachable.\n"
     "Example: sessionbridgectl -c sb.ini decode --profile legacy 'eyJ...'"},
    {"encode", NULL, cli_cmd_encode,
     "--profile P [--now UNIX] [--client-addr A] [--user-agent UA] "
     "[--set-cookie] < session.json",
     "Reads a canonical session from stdin ({\"subject\":..,\"data\":{..}};\n"
     "subject may be null or absent for an anonymous session; sid,\n"
     "issued_at, expires_at optional; decode's whole answer is accepted\n"
     "too) and prints the credential for profile P (with --set-cookie, the\n"
     "whole Set-Cookie header value).  Nothing is written to Redis.\n"
     "Example: echo '{\"subject\":\"42\",\"data\":{}}' | sessionbridgectl "
     "-c sb.ini encode --profile new"},
    {"translate", NULL, cli_cmd_translate,
     "[--from P] --to Q [--offline] [--set-cookie] [--now UNIX] "
     "[--client-addr A] [--user-agent UA] [TOKEN]",
     "Validates a credential (profile P, or any) as decode does and prints\n"
     "the same session as a credential of profile Q, minted as POST\n"
     "/v1/translate mints it (an express target gets its connect-redis\n"
     "record).  --offline as for decode (an express target then fails).\n"
     "Exit 0, 1 when the input is not active or Q cannot carry it, 2\n"
     "usage, 3 Redis unreachable.\n"
     "Example: sessionbridgectl -c sb.ini translate --from legacy --to new "
     "'eyJ...'"},
    {"config", "check", cli_cmd_config_check, "",
     "Validates the configuration file and exits 0, or 1 with file:line,\n"
     "section, key and what is wrong.\n"
     "Example: sessionbridgectl -c /etc/sessionbridge/sessionbridge.ini "
     "config check"},
    {"purge", NULL, cli_cmd_purge,
     "--user S... | --session SID... | --profile P | --older-than D | --all "
     "[--dry-run] [--yes] [--json] [--rate N|max]",
     "Removes sessions from the store exactly as the HTTP API does: each\n"
     "session with its index entry, atomically, leaving a revocation marker,\n"
     "so stateless credentials (signed cookies, JWTs) of what was purged\n"
     "validate as revoked at once.\n"
     "  --user S...      log users out everywhere (their not-before time is\n"
     "                   set: every credential issued before now is revoked)\n"
     "  --session SID... remove these sessions (for a credential the store\n"
     "                   never recorded, use `revoke TOKEN`)\n"
     "  --profile P      sessions that came from profile P (repeatable)\n"
     "  --older-than D   sessions issued more than D ago (90s, 15m, 12h, 7d)\n"
     "  --all            every session (cannot be combined)\n"
     "--profile and --older-than combine (both must hold) and filter --user\n"
     "and --session when given with them.\n"
     "  --dry-run, -n    count what would go, change nothing\n"
     "  --yes, -y        do not ask: --all, and purges of more than 1000\n"
     "                   sessions, ask on a terminal and refuse (exit 2)\n"
     "                   without one unless --yes is given\n"
     "  --json           the summary as one JSON object\n"
     "  --batch N        keys per SCAN step, ids read per pipeline (100,\n"
     "                   at most 1000)\n"
     "  --rate N|max     remove at most N sessions per second; max (or 0):\n"
     "                   no pauses.  Without --rate the pace adapts: Redis\n"
     "                   is kept busy at most half the time, and less while\n"
     "                   its latency (a PING before each step) is above\n"
     "                   twice what it was idle at the start\n"
     "Large purges walk the store with SCAN and remove in pipelines of at\n"
     "most 16 scripts (one session or one user each), so Redis keeps\n"
     "answering other clients; a progress bar shows on a terminal.  Ctrl-C\n"
     "stops after the current step, leaving the store consistent; run the\n"
     "same command again to finish.  Exit 0 done, 1 interrupted or (with\n"
     "--session alone) none of the ids existed, 2 usage, 3 Redis unreachable.\n"
     "Example: sessionbridgectl -c sb.ini purge --profile legacy "
     "--older-than 30d --dry-run"},
    {"sessions", "list", cli_cmd_sessions_list,
     "[--user S] [--profile P] [--limit N] [--json]",
     "Lists sessions in the store: a table (sid, subject, profile, issued,\n"
     "expires, updated; times in UTC) with the count on stderr, or with\n"
     "--json one JSON object per line.  --user lists that user's live\n"
     "sessions (soonest expiry first); otherwise the whole store is walked\n"
     "with SCAN, in store order.  --profile keeps that profile's sessions.\n"
     "--limit N stops after N (default 100; 0 = all).  Exit 0 (also when\n"
     "nothing is listed), 2 usage, 3 Redis unreachable.\n"
     "Example: sessionbridgectl -c sb.ini sessions list --user 42 --json"},
    {"sessions", "show", cli_cmd_sessions_show, "SID [--json]",
     "Shows one session: its fields and its data, or with --json the\n"
     "canonical session JSON as stored.  Exit 0, 1 when there is no such\n"
     "session, 2 usage, 3 Redis unreachable.\n"
     "Example: sessionbridgectl -c sb.ini sessions show Zq3xT0q9Ld2v --json"},
    {"stats", NULL, cli_cmd_stats, "[--json] [--sample N]",
     "Counts what the store holds under the prefix, walking it once with\n"
     "SCAN: sessions (by profile), users with sessions, revocation markers,\n"
     "users logged out everywhere, API keys, the oldest and newest session,\n"
     "and the memory used, estimated from MEMORY USAGE of N keys spread\n"
     "over the walk (--sample, default 1000; 0 skips it).  A progress bar\n"
     "shows on a terminal.  Exit 0, 3 Redis unreachable.\n"
     "Example: sessionbridgectl -c sb.ini stats --json"},
    {"revoke", NULL, cli_cmd_revoke, "[--profile P] [--json] [TOKEN | -]",
     "Decodes a credential (with --profile P, or each configured profile in\n"
     "turn) and revokes its session as POST /v1/revoke does: the stored\n"
     "session is deleted and a revocation marker written, so this\n"
     "credential and every other one of the same session validate as\n"
     "revoked, even one the store never recorded.  The token is read from\n"
     "stdin when not given (or given as -), which keeps it out of the\n"
     "process list.  Exit 0 revoked, 1 the credential is not valid (nothing\n"
     "revoked), 2 usage, 3 Redis unreachable.\n"
     "Example: sessionbridgectl -c sb.ini revoke --profile legacy < cookie.txt"},
    {"apikey", "create", cli_cmd_apikey_create,
     "--subject S [--scope X]... [--expires DURATION] [--id ID] [--json]",
     "Creates an API key for the daemon's /v1/apikeys/validate and prints it\n"
     "once on stdout (sbk_ + 43 characters); only its SHA-256 is stored.\n"
     "--scope is repeatable (at most 16); --expires takes 90d, 12h, 2w...\n"
     "(default: never); --id names the key (default: random).  Exit 0, 1\n"
     "when the id is taken, 2 usage, 3 Redis unreachable.\n"
     "Example: KEY=$(sessionbridgectl -c sb.ini apikey create --subject "
     "svc-deploy --scope sessions:read --expires 90d)"},
    {"apikey", "list", cli_cmd_apikey_list, "[--json]",
     "Lists the live API keys (id, subject, scopes, created, expires),\n"
     "never the keys themselves.  Exit 0, 3 Redis unreachable.\n"
     "Example: sessionbridgectl -c sb.ini apikey list --json"},
    {"apikey", "revoke", cli_cmd_apikey_revoke, "KEY_ID",
     "Deletes an API key: it stops validating at once.  Exit 0, 1 when\n"
     "there is no such key, 2 usage, 3 Redis unreachable.\n"
     "Example: sessionbridgectl -c sb.ini apikey revoke ci-deploy"},
    {"keys", "generate", cli_cmd_keys_generate,
     "--alg RS256|ES256|HS256 [--out FILE [--force]] [--pub FILE] "
     "[--bits 2048|3072|4096]",
     "Generates a new signing key for a jwt profile.  RS*/ES*: a PKCS#8 PEM\n"
     "private key (--pub also writes its public half); HS*: a random secret\n"
     "as one line of base64url, for secrets_file.  With --out the key goes\n"
     "to FILE, created with mode 0600 whatever the umask, never over an\n"
     "existing file unless --force; without, to stdout.  Also accepted:\n"
     "RS384 RS512 ES384 ES512 HS384 HS512.  Exit 0, 1 when the file exists\n"
     "or cannot be written, 2 usage.\n"
     "Example: sessionbridgectl keys generate --alg ES256 "
     "--out /etc/sessionbridge/jwt.pem --pub /etc/sessionbridge/jwt.pub.pem"},
    {"keys", "jwks", cli_cmd_keys_jwks, "",
     "Prints the public JWKS (RFC 7517) of the configured RS*/ES* jwt\n"
     "profiles: every verification key, with its kid, as the daemon serves\n"
     "it at /.well-known/jwks.json.  Offline: needs the config, not Redis.\n"
     "Example: sessionbridgectl -c sb.ini keys jwks > jwks.json"},
};

const size_t cli_command_count = sizeof(cli_commands) / sizeof(cli_commands[0]);
