/* commands.c - the table of sessionbridgectl commands and their help. */
#include "cli.h"

const struct cli_command cli_commands[] = {
    {"decode", NULL, cli_cmd_decode,
     "--profile P [--now UNIX] [--client-addr A] [--user-agent UA] [TOKEN]",
     "Decodes and verifies a credential offline with profile P and prints\n"
     "{\"active\":true,\"profile\":P,\"session\":{...}} or\n"
     "{\"active\":false,\"error\":CODE,\"message\":...}.  The token is read\n"
     "from stdin when not given.  Exit 0 active, 1 not active, 2 usage.\n"
     "Example: sessionbridgectl -c sb.ini decode --profile legacy 'eyJ...'"},
    {"encode", NULL, cli_cmd_encode,
     "--profile P [--now UNIX] [--client-addr A] [--user-agent UA] "
     "[--set-cookie] < session.json",
     "Reads a canonical session from stdin ({\"subject\":..,\"data\":{..}};\n"
     "sid, issued_at, expires_at optional) and prints the credential for\n"
     "profile P (with --set-cookie, the whole Set-Cookie header value).\n"
     "Example: echo '{\"subject\":\"42\",\"data\":{}}' | sessionbridgectl "
     "-c sb.ini encode --profile new"},
    {"translate", NULL, cli_cmd_translate,
     "--from P --to Q [--now UNIX] [--client-addr A] [--user-agent UA] "
     "[TOKEN]",
     "Decodes a credential with profile P and prints the same session as a\n"
     "credential of profile Q.  Exit 0, 1 when the input is not active.\n"
     "Example: sessionbridgectl -c sb.ini translate --from legacy --to new "
     "'eyJ...'"},
    {"config", "check", cli_cmd_config_check, "",
     "Validates the configuration file and exits 0, or 1 with file:line,\n"
     "section, key and what is wrong.\n"
     "Example: sessionbridgectl -c /etc/sessionbridge/sessionbridge.ini "
     "config check"},
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
};

const size_t cli_command_count = sizeof(cli_commands) / sizeof(cli_commands[0]);
