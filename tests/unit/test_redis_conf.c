/* test_redis_conf.c - the [redis] connection contract: rediss:// URLs,
 * mode, nodes, sentinel and TLS keys with their precise errors, passwords
 * refused from the environment, and the rules across keys. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sessionbridge/config.h"
#include "sessionbridge/redis_url.h"
#include "unit_run.h"

static char path[64];

/* Writes "[redis]\n" + text to a fresh temp file named in `path`. */
static void write_redis_ini(const char *text)
{
    FILE *f;
    int fd;

    strcpy(path, "/tmp/sbrcfXXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    fprintf(f, "[redis]\n%s", text);
    fclose(f);
}

/* Loads `text`; expects failure with `want` inside the message. */
static void expect_error(const char *text, const char *want)
{
    struct sb_config *cfg = NULL;
    struct sb_err err = {0};

    write_redis_ini(text);
    ck_assert_int_eq(sb_config_load(path, &cfg, &err), -1);
    unlink(path);
    ck_assert_msg(strstr(err.msg, want) != NULL, "[%s] lacks [%s]", err.msg,
                  want);
}

START_TEST(test_rediss_url)
{
    struct sb_redis_url u;
    struct sb_err err = {0};

    ck_assert_int_eq(sb_redis_url_parse("rediss://cache.local:6380/2", &u,
                                        &err), 0);
    ck_assert(u.tls);
    ck_assert_str_eq(u.host, "cache.local");
    ck_assert_ptr_null(u.user);
    ck_assert_ptr_null(u.password);
    ck_assert_uint_eq(u.port, 6380);
    ck_assert_uint_eq(u.db, 2);
    sb_redis_url_free(&u);
    ck_assert_int_eq(sb_redis_url_parse("redis://h:1/0", &u, &err), 0);
    ck_assert(!u.tls);
    sb_redis_url_free(&u);
    /* an empty password is no password */
    ck_assert_int_eq(sb_redis_url_parse("redis://app:@h", &u, &err), 0);
    ck_assert_str_eq(u.user, "app");
    ck_assert_ptr_null(u.password);
    sb_redis_url_free(&u);
    ck_assert_int_eq(sb_redis_url_parse("redisss://h", &u, &err), -1);
}
END_TEST

START_TEST(test_sentinel_keys)
{
    struct sb_config *cfg = NULL;
    struct sb_err err = {0};
    FILE *f = fopen("/tmp/sbrcf-sentinel-pw", "w");

    fputs("sentinel-secret\n", f);
    fclose(f);
    chmod("/tmp/sbrcf-sentinel-pw", 0600);
    write_redis_ini("mode = sentinel\n"
                    "nodes = 10.0.0.1:26379, [::1]:26380 ,s3.local:26381\n"
                    "sentinel_master = mymaster\n"
                    "sentinel_password_file = /tmp/sbrcf-sentinel-pw\n"
                    "username = bridge\n");
    ck_assert_msg(sb_config_load(path, &cfg, &err) == 0, "%s", err.msg);
    unlink(path);
    unlink("/tmp/sbrcf-sentinel-pw");
    ck_assert_int_eq(cfg->redis.mode, SB_REDIS_SENTINEL);
    ck_assert_uint_eq(cfg->redis.node_count, 3);
    ck_assert_str_eq(cfg->redis.nodes[0].host, "10.0.0.1");
    ck_assert_uint_eq(cfg->redis.nodes[0].port, 26379);
    ck_assert_str_eq(cfg->redis.nodes[1].host, "::1");
    ck_assert_uint_eq(cfg->redis.nodes[1].port, 26380);
    ck_assert_str_eq(cfg->redis.nodes[2].host, "s3.local");
    ck_assert_str_eq(cfg->redis.sentinel_master, "mymaster");
    ck_assert_str_eq(cfg->redis.sentinel_password, "sentinel-secret");
    ck_assert_str_eq(cfg->redis.url.user, "bridge");
    ck_assert_str_eq(cfg->redis.layout_prefix, "sb:");
    ck_assert(!cfg->redis.tls.on);
    sb_config_unref(cfg);
}
END_TEST

START_TEST(test_cluster_keys)
{
    struct sb_config *cfg = NULL;
    struct sb_err err = {0};

    write_redis_ini("mode = cluster\n"
                    "nodes = 10.0.0.1:7000, 10.0.0.2:7001\n"
                    "username = bridge\n"
                    "wait_replicas = 1\n"
                    "wait_timeout_ms = 250\n");
    ck_assert_msg(sb_config_load(path, &cfg, &err) == 0, "%s", err.msg);
    unlink(path);
    ck_assert_int_eq(cfg->redis.mode, SB_REDIS_CLUSTER);
    ck_assert_uint_eq(cfg->redis.node_count, 2);
    ck_assert_str_eq(cfg->redis.nodes[1].host, "10.0.0.2");
    ck_assert_uint_eq(cfg->redis.nodes[1].port, 7001);
    ck_assert_uint_eq(cfg->redis.wait_replicas, 1);
    ck_assert_uint_eq(cfg->redis.wait_timeout_ms, 250);
    sb_config_unref(cfg);
    write_redis_ini("");
    ck_assert_msg(sb_config_load(path, &cfg, &err) == 0, "%s", err.msg);
    unlink(path);
    ck_assert_uint_eq(cfg->redis.wait_replicas, 0);
    ck_assert_uint_eq(cfg->redis.wait_timeout_ms, 100);
    sb_config_unref(cfg);
}
END_TEST

START_TEST(test_bad_keys)
{
    expect_error("mode = replicated\n", "[redis] mode: 'replicated' is not "
                 "standalone, sentinel or cluster");
    expect_error("mode = cluster\n", "mode = cluster needs nodes (seed nodes");
    expect_error("mode = cluster\nurl = redis://h:1/0\n",
                 "mode = cluster needs nodes");
    expect_error("mode = cluster\nnodes = a:1\nurl = redis://h:1/3\n",
                 "mode = cluster has database 0 only");
    expect_error("mode = cluster\nnodes = a:1\nurl = unix:///r.sock\n",
                 "mode = cluster cannot use a unix:// url");
    expect_error("wait_replicas = many\n", "[redis] wait_replicas: 'many' is "
                 "not a number of replicas from 0 to 16");
    expect_error("wait_replicas = 1\nwait_timeout_ms = 1000\n",
                 "[redis] wait_timeout_ms (1000) must be less than "
                 "command_timeout_ms (1000)");
    expect_error("wait_timeout_ms = 0\n", "[redis] wait_timeout_ms: '0' is "
                 "not a time in ms from 1 to 60000");
    expect_error("mode = sentinel\nsentinel_master = m\n",
                 "mode = sentinel needs nodes");
    expect_error("mode = sentinel\nnodes = a:1\n",
                 "mode = sentinel needs nodes (the sentinels) and "
                 "sentinel_master");
    expect_error("nodes = a:1\n", "nodes is for mode = sentinel");
    expect_error("mode = sentinel\nsentinel_master = m\nnodes = a\n",
                 "[redis] nodes: 'a' is not host:port");
    expect_error("mode = sentinel\nsentinel_master = m\nnodes = a:0\n",
                 "'a:0' is not host:port");
    expect_error("mode = sentinel\nsentinel_master = m\nnodes = ,\n",
                 "expected host:port, host:port");
    expect_error("tls = maybe\n", "[redis] tls: 'maybe' is not on or off");
    expect_error("tls_ca_file = /etc/ssl/certs/ca-certificates.crt\n",
                 "TLS is off");
    expect_error("tls = on\ntls_cert_file = /x.pem\n",
                 "tls_cert_file and tls_key_file go together");
    expect_error("tls = on\ntls_ca_file = /nonexistent/ca.pem\n",
                 "[redis] tls_ca_file /nonexistent/ca.pem: No such file");
    expect_error("url = rediss://h:1/0\ntls_cert_file = /nonexistent/c.pem\n"
                 "tls_key_file = /nonexistent/k.pem\n",
                 "[redis] tls_cert_file /nonexistent/c.pem: No such file");
    expect_error("url = unix:///r.sock\ntls = on\n",
                 "TLS over a unix socket is not supported");
    expect_error("username = \n", "[redis] username: must not be empty");
}
END_TEST

START_TEST(test_password_not_from_environment)
{
    struct sb_config *cfg = NULL;
    struct sb_err err = {0};

    write_redis_ini("prefix = t:\n");
    setenv("SESSIONBRIDGE_REDIS_URL", "redis://u:hunter2@h:6379/0", 1);
    ck_assert_int_eq(sb_config_load(path, &cfg, &err), -1);
    ck_assert_msg(strstr(err.msg, "environment SESSIONBRIDGE_REDIS_URL: "
                                  "[redis] url: a password inside the URL "
                                  "is refused here") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "password_file") != NULL, "%s", err.msg);
    ck_assert(strstr(err.msg, "hunter2") == NULL);
    /* without the password the same URL is fine, and TLS follows rediss */
    setenv("SESSIONBRIDGE_REDIS_URL", "rediss://h:6379/0", 1);
    setenv("SESSIONBRIDGE_REDIS_USERNAME", "u", 1);
    setenv("SESSIONBRIDGE_REDIS_TLS_SERVER_NAME", "redis.internal", 1);
    ck_assert_msg(sb_config_load(path, &cfg, &err) == 0, "%s", err.msg);
    ck_assert(cfg->redis.tls.on);
    ck_assert_str_eq(cfg->redis.tls.server_name, "redis.internal");
    ck_assert_str_eq(cfg->redis.url.user, "u");
    sb_config_unref(cfg);
    unsetenv("SESSIONBRIDGE_REDIS_URL");
    unsetenv("SESSIONBRIDGE_REDIS_USERNAME");
    unsetenv("SESSIONBRIDGE_REDIS_TLS_SERVER_NAME");
    unlink(path);
}
END_TEST

START_TEST(test_conf_copy_equal)
{
    struct sb_redis_conf a, b;
    struct sb_err err = {0};

    ck_assert_int_eq(sb_redis_conf_from_url("rediss://h:7000/1", &a, &err), 0);
    ck_assert(a.tls.on);
    ck_assert_int_eq(sb_redis_conf_set(&a, "tls_server_name", "n", &err), 0);
    ck_assert_int_eq(sb_redis_conf_copy(&b, &a, &err), 0);
    ck_assert(sb_redis_conf_equal(&a, &b));
    ck_assert_int_eq(sb_redis_conf_set(&b, "tls_server_name", "m", &err), 0);
    ck_assert(!sb_redis_conf_equal(&a, &b));
    sb_redis_conf_free(&a);
    sb_redis_conf_free(&b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("redis_conf");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_rediss_url);
    tcase_add_test(tc, test_sentinel_keys);
    tcase_add_test(tc, test_cluster_keys);
    tcase_add_test(tc, test_bad_keys);
    tcase_add_test(tc, test_password_not_from_environment);
    tcase_add_test(tc, test_conf_copy_equal);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
