/* test_config.c - the config loader: good files, every kind of bad file
 * with its precise message, environment overrides, Redis URLs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sessionbridge/config.h"
#include "sessionbridge/redis_url.h"
#include "unit_run.h"

static char path[64];

/* Writes text to a fresh temp file whose name is in `path`. */
static void write_ini(const char *text)
{
    FILE *f;
    int fd;

    strcpy(path, "/tmp/sbcfgXXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
}

START_TEST(test_defaults)
{
    struct sb_config *cfg = NULL;
    struct sb_err err = {0};

    write_ini("[log]\nlevel = debug\n");
    ck_assert_int_eq(sb_config_load(path, &cfg, &err), 0);
    ck_assert_str_eq(cfg->listen_host, "127.0.0.1");
    ck_assert_uint_eq(cfg->listen_port, 8080);
    ck_assert_uint_gt(cfg->threads, 0);
    ck_assert_str_eq(cfg->redis.url.host, "127.0.0.1");
    ck_assert_uint_eq(cfg->redis.url.port, 6379);
    ck_assert_str_eq(cfg->prefix, "sb:");
    ck_assert_int_eq(cfg->log_level, SB_LOG_DEBUG);
    ck_assert_uint_eq(cfg->open_on_loopback, 0);
    sb_config_unref(cfg);
    unlink(path);
}
END_TEST

START_TEST(test_full_file)
{
    struct sb_config *cfg = NULL;
    struct sb_err err = {0};
    char tokens[] = "/tmp/sbtokXXXXXX";
    char text[512];
    int fd = mkstemp(tokens);

    ck_assert_int_eq(write(fd, "admin a-token\nbackend b-token\n", 30), 30);
    close(fd);
    snprintf(text, sizeof(text),
             "[http]\nlisten = 0.0.0.0:9090 ; comment\nthreads = 3\n"
             "[redis]\nurl = unix:///tmp/r.sock?db=4\nprefix = x:\n"
             "[api]\ntokens_file = %s\nopen_on_loopback = auth, validate\n",
             tokens);
    write_ini(text);
    ck_assert_msg(sb_config_load(path, &cfg, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(cfg->listen_host, "0.0.0.0");
    ck_assert_uint_eq(cfg->listen_port, 9090);
    ck_assert_uint_eq(cfg->threads, 3);
    ck_assert_str_eq(cfg->redis.url.socket, "/tmp/r.sock");
    ck_assert_uint_eq(cfg->redis.url.db, 4);
    ck_assert_str_eq(cfg->prefix, "x:");
    ck_assert_uint_eq(cfg->open_on_loopback, SB_OPEN_AUTH | SB_OPEN_VALIDATE);
    ck_assert_uint_eq(cfg->token_count, 2);
    ck_assert_int_eq(sb_config_token_role(cfg, "a-token", 7), SB_ROLE_ADMIN);
    ck_assert_int_eq(sb_config_token_role(cfg, "b-token", 7), SB_ROLE_BACKEND);
    ck_assert_int_eq(sb_config_token_role(cfg, "c-token", 7), SB_ROLE_NONE);
    ck_assert_int_eq(sb_config_token_role(cfg, "a-toke", 6), SB_ROLE_NONE);
    sb_config_unref(cfg);
    unlink(path);
    unlink(tokens);
}
END_TEST

START_TEST(test_env_override)
{
    struct sb_config *cfg = NULL;
    struct sb_err err = {0};

    write_ini("[http]\nthreads = 3\n");
    setenv("SESSIONBRIDGE_HTTP_THREADS", "5", 1);
    setenv("SESSIONBRIDGE_REDIS_PREFIX", "env:", 1);
    ck_assert_int_eq(sb_config_load(path, &cfg, &err), 0);
    ck_assert_uint_eq(cfg->threads, 5);
    ck_assert_str_eq(cfg->prefix, "env:");
    sb_config_unref(cfg);
    setenv("SESSIONBRIDGE_HTTP_THREADS", "lots", 1);
    ck_assert_int_eq(sb_config_load(path, &cfg, &err), -1);
    ck_assert_str_eq(err.msg, "environment SESSIONBRIDGE_HTTP_THREADS: [http] "
                              "threads: 'lots' is not a whole number from 0 "
                              "to 256");
    unsetenv("SESSIONBRIDGE_HTTP_THREADS");
    unsetenv("SESSIONBRIDGE_REDIS_PREFIX");
    unlink(path);
}
END_TEST

/* Each bad file and the exact message (after the path) it must give. */
static const struct bad_case {
    const char *text;
    const char *message;
} bad_cases[] = {
    {"[http]\nlisten = 8080\n",
     ":2: [http] listen: expected host:port (e.g. 127.0.0.1:8080)"},
    {"[http]\nlisten = 127.0.0.1:99999\n",
     ":2: [http] listen: expected host:port (e.g. 127.0.0.1:8080)"},
    {"[http]\nthreads = -1\n",
     ":2: [http] threads: '-1' is not a whole number from 0 to 256"},
    {"[http]\n\nthreads = 1000\n",
     ":3: [http] threads: '1000' is not a whole number from 0 to 256"},
    {"[http]\nmax_body = 10\n",
     ":2: [http] max_body: '10' is not a whole number from 256 to 16777216"},
    {"[http]\nbogus = 1\n", ":2: [http] bogus: unknown key"},
    {"[nosuch]\nkey = 1\n", ":2: [nosuch]: unknown section"},
    {"[redis]\nurl = http://localhost\n",
     ":2: [redis] url: Redis URL must start with redis://, rediss:// or unix://"},
    {"[redis]\nurl = redis://h:0/0\n",
     ":2: [redis] url: Redis URL port must be 1-65535"},
    {"[redis]\nurl = redis://h:6379/x\n",
     ":2: [redis] url: Redis URL database must be a number (/0)"},
    {"[redis]\nurl = unix://relative\n",
     ":2: [redis] url: unix URL needs an absolute path "
     "(unix:///path/redis.sock?db=N)"},
    {"[redis]\nprefix =\n", ":2: [redis] prefix: must not be empty"},
    {"[log]\nlevel = loud\n",
     ":2: [log] level: 'loud' is not debug, info, warn or error"},
    {"[api]\nopen_on_loopback = auth,admin\n",
     ":2: [api] open_on_loopback: unknown endpoint family 'admin' "
     "(auth, validate, ext_authz, apikeys, status)"},
    {"[grpc]\nlisten = nowhere\n",
     ":2: [grpc] listen: expected host:port (e.g. 127.0.0.1:8080)"},
    {"[grpc]\nmax_message_bytes = 10\n",
     ":2: [grpc] max_message_bytes: '10' is not a whole number from 256 to "
     "16777216"},
    {"[grpc]\nlisen = 127.0.0.1:1\n", ":2: [grpc] lisen: unknown key"},
    {"[route]\nlegacy = nope\n", ":2: [route] legacy: no [profile.nope] section"},
    {"[profile.x]\ncookie_name = s\n", ": [profile.x] format: missing"},
    {"[profile.x]\nformat = cobol\n",
     NULL /* names the known formats; checked by prefix */},
    {"[profile.rs]\nformat = jwt\nalg = RS256\ncookie_name = t\n"
     "private_key_file = /nonexistent/k.pem\n",
     ": [profile.rs]: cannot read /nonexistent/k.pem: No such file or "
     "directory"},
    {"this is not ini\n",
     ":1: not a 'key = value' line or [section] header"},
};

START_TEST(test_bad_files)
{
    const struct bad_case *c = &bad_cases[_i];
    struct sb_config *cfg = NULL;
    struct sb_err err = {0};
    char expected[512];

    write_ini(c->text);
    ck_assert_int_eq(sb_config_load(path, &cfg, &err), -1);
    ck_assert_ptr_null(cfg);
    ck_assert_int_eq(err.code, SB_ERR_CONFIG);
    if (c->message != NULL) {
        snprintf(expected, sizeof(expected), "%s%s", path, c->message);
        ck_assert_str_eq(err.msg, expected);
    } else {
        snprintf(expected, sizeof(expected),
                 "%s:2: [profile.x] format: unknown format 'cobol' (", path);
        ck_assert_msg(strncmp(err.msg, expected, strlen(expected)) == 0,
                      "got: %s", err.msg);
    }
    unlink(path);
}
END_TEST

START_TEST(test_missing_file)
{
    struct sb_config *cfg = NULL;
    struct sb_err err = {0};

    ck_assert_int_eq(sb_config_load("/nonexistent/sb.ini", &cfg, &err), -1);
    ck_assert_str_eq(err.msg,
                     "/nonexistent/sb.ini: cannot open: No such file or "
                     "directory");
}
END_TEST

START_TEST(test_redis_urls)
{
    struct sb_redis_url u;
    struct sb_err err = {0};

    ck_assert_int_eq(sb_redis_url_parse("redis://user:pa:ss@db.local:6380/3",
                                        &u, &err), 0);
    ck_assert_str_eq(u.host, "db.local");
    ck_assert_uint_eq(u.port, 6380);
    ck_assert_uint_eq(u.db, 3);
    ck_assert_str_eq(u.user, "user");
    ck_assert_str_eq(u.password, "pa:ss");
    sb_redis_url_free(&u);
    ck_assert_int_eq(sb_redis_url_parse("redis://:secret@h", &u, &err), 0);
    ck_assert_ptr_null(u.user);
    ck_assert_str_eq(u.password, "secret");
    ck_assert_uint_eq(u.port, 6379);
    ck_assert_uint_eq(u.db, 0);
    sb_redis_url_free(&u);
    ck_assert_int_eq(sb_redis_url_parse("unix:///run/r.sock", &u, &err), 0);
    ck_assert_str_eq(u.socket, "/run/r.sock");
    ck_assert_ptr_null(u.host);
    sb_redis_url_free(&u);
    ck_assert_int_eq(sb_redis_url_parse("unix:///r.sock?dbx=1", &u, &err), -1);
    ck_assert_int_eq(sb_redis_url_parse("redis://:pw@/0", &u, &err), -1);
    ck_assert_str_eq(err.msg, "Redis URL has no host");
    ck_assert_ptr_null(strstr(err.msg, "pw"));
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_full_file);
    tcase_add_test(tc, test_env_override);
    tcase_add_loop_test(tc, test_bad_files, 0,
                        sizeof(bad_cases) / sizeof(bad_cases[0]));
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_redis_urls);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(config_suite());
}
