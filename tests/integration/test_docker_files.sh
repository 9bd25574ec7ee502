#!/usr/bin/env bash
# The deployment files, checked without a Docker engine: shellcheck of the
# repository's shell scripts, `docker-compose config` (or `docker compose
# config`) of docker/compose.yaml, nginx -t on the ready-to-copy snippets in
# a minimal wrapper and on the compose demo's nginx config, the compose
# demo's bridge config through the real config loader, the secrets
# generator, the Traefik example, and the Dockerfile against the package
# list, the build context and compose.  Each tool is a `test` package of
# docker/packages.txt (make test installs them); a missing one is a failure,
# never a skip.
. "$(dirname "$0")/../harness/lib.sh"

D=$SB_SOURCE_DIR/docker
PY=/usr/bin/python3

# The tools, with the Debian package (docker/packages.txt) of each.
for tool in shellcheck:shellcheck nginx:nginx docker-compose:docker-compose; do
    command -v "${tool%%:*}" >/dev/null ||
        { echo "FAIL - ${tool%%:*} is not installed (package ${tool#*:}: docker/install-deps.sh test)"; exit 1; }
done
"$PY" -c 'import yaml' 2>/dev/null ||
    { echo "FAIL - python3-yaml is not installed (docker/install-deps.sh test)"; exit 1; }

# ---- shellcheck -------------------------------------------------------------
# Every tracked shell script (and .ci/run), at severity warning.  Sourced
# libraries (no shebang) are read as bash, and the variables they set for
# the scripts that source them are not "unused".  SC1091: the sourced
# paths are computed at run time.
cd "$SB_SOURCE_DIR" || exit 1
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
    scripts=$(git ls-files '*.sh' .ci/run)
else
    scripts=$(find . -name '*.sh' -not -path './build*' -not -path '*/node_modules/*' | sed 's|^\./||'; echo .ci/run)
fi
for f in $scripts; do
    [ -f "$f" ] || continue
    opts=(-S warning -e SC1091 -s bash -f gcc)
    head -c 2 "$f" | grep -q '#!' || opts+=(-e SC2034)
    out=$(shellcheck "${opts[@]}" "$f" 2>&1)
    check "shellcheck: $f" "" "$out"
done
check_match "shellcheck read the repository's scripts (10 or more)" '^[1-9][0-9]+$' "$(echo "$scripts" | wc -w)"
cd - >/dev/null || exit 1

# ---- the secrets generator ----------------------------------------------------
mkdir -p "$SB_TMP/docker/secrets"
cp -r "$D/compose.yaml" "$D/demo" "$D/nginx" "$SB_TMP/docker/"
cp "$D/secrets/generate.sh" "$SB_TMP/docker/secrets/"
bash "$SB_TMP/docker/secrets/generate.sh" >/dev/null
check "generate.sh exits 0" 0 $?
for s in redis_password legacy_secret new_hash_key new_block_key bridge_tokens; do
    check "generate.sh wrote $s, mode 0644" 644 "$(stat -c %a "$SB_TMP/docker/secrets/$s" 2>/dev/null)"
done
check "the secrets directory is 0700" 700 "$(stat -c %a "$SB_TMP/docker/secrets")"
check "the AES block key is 32 bytes" 32 "$(head -n1 "$SB_TMP/docker/secrets/new_block_key" | tr -d '\n' | wc -c)"
check_match "bridge_tokens has an admin and a backend token" '^admin [0-9a-f]{48} backend [0-9a-f]{48}$' "$(tr '\n' ' ' <"$SB_TMP/docker/secrets/bridge_tokens" | sed 's/ $//')"
before=$(md5sum "$SB_TMP/docker/secrets/redis_password")
bash "$SB_TMP/docker/secrets/generate.sh" >/dev/null
check "a second run keeps existing secrets" "$before" "$(md5sum "$SB_TMP/docker/secrets/redis_password")"
cmp -s "$SB_TMP/docker/secrets/legacy_secret" "$SB_TMP/docker/secrets/new_hash_key"
check "every secret is its own random value" 1 $?
git -C "$SB_SOURCE_DIR" check-ignore -q docker/secrets/redis_password 2>/dev/null
check "real secret files are git-ignored" 0 $?
git -C "$SB_SOURCE_DIR" check-ignore -q docker/secrets/redis_password.example 2>/dev/null
check "the *.example files are not ignored" 1 $?

# ---- the compose demo's bridge config through the real loader -----------------
sed "s|/run/secrets/|$SB_TMP/docker/secrets/|" "$D/demo/sessionbridge.ini" >"$SB_TMP/demo.ini"
out=$("$SB_BIN" --check-config -c "$SB_TMP/demo.ini" 2>&1)
rc=$?
check "docker/demo/sessionbridge.ini passes --check-config (secrets in place)" 0 "$rc"
[ "$rc" = 0 ] || echo "     $out"
check_match "the demo config reads every secret from /run/secrets" '^(/run/secrets/[a-z_]+ )+$' \
    "$(grep -o '= */[^ ;]*' "$D/demo/sessionbridge.ini" | sed 's/= *//' | tr '\n' ' ')"

# The cookie names the nginx snippet is written for are the profiles'.
check "nginx snippet and demo config name the same cookies" \
    "$(sed -n 's/^cookie_name = //p' "$D/demo/sessionbridge.ini" | sort | tr '\n' ' ')" \
    "$(sed -n 's/^ *"~^\([a-z_]*\)=" .*/\1/p' "$D/nginx/sessionbridge.conf" | sort | tr '\n' ' ')"

# ---- docker compose config ----------------------------------------------------
# docker-compose (Debian's package) reads and resolves the file without an
# engine; the docker CLI's compose plugin does the same where it exists.
compose=(docker-compose)
command -v docker >/dev/null && docker compose version >/dev/null 2>&1 && compose=(docker compose)
out=$("${compose[@]}" -f "$SB_TMP/docker/compose.yaml" -p sessionbridge-demo config 2>"$SB_TMP/compose.err")
check "${compose[*]} config accepts docker/compose.yaml" 0 $?
[ -s "$SB_TMP/compose.err" ] && sed 's/^/     /' "$SB_TMP/compose.err"
printf '%s\n' "$out" >"$SB_TMP/compose.resolved.yaml"
facts=$("$PY" - "$SB_TMP/compose.resolved.yaml" <<'EOF'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
s = c["services"]
print("services", " ".join(sorted(s)))
for name in ("bridge-1", "bridge-2"):
    b = s[name]
    print(name, b["build"]["target"], b.get("network_mode"), b.get("read_only"),
          b["environment"]["SESSIONBRIDGE_HTTP_LISTEN"], b["environment"]["SB_HEALTH_PORT"],
          sorted(x["source"] if isinstance(x, dict) else x for x in b["secrets"]) ==
          sorted(["redis_password", "legacy_secret", "new_hash_key", "new_block_key", "bridge_tokens"]))
print("targets", " ".join(sorted(set(v["build"]["target"] for v in s.values()))))
print("ports", s["router"]["ports"])
print("secret files", all(v.get("file", "").startswith(tuple(["./secrets/", "/"])) for v in c["secrets"].values()))
print("redis volume", any("/data" in str(v) for v in s["redis"]["volumes"]))
EOF
)
check_match "compose: the six services" '^services bridge-1 bridge-2 legacy-app new-app redis router$' "$(echo "$facts" | sed -n 1p)"
check "compose: bridge-1 is a loopback sidecar of the router with all its secrets" \
    "bridge-1 bridge service:router True 127.0.0.1:8080 8080 True" "$(echo "$facts" | sed -n 2p)"
check "compose: bridge-2 likewise on 8081" \
    "bridge-2 bridge service:router True 127.0.0.1:8081 8081 True" "$(echo "$facts" | sed -n 3p)"
check "compose: image targets" "targets bridge legacy-app new-app router store" "$(echo "$facts" | sed -n 4p)"
check_match "compose: the router is published on loopback only" "127.0.0.1" "$(echo "$facts" | sed -n 5p)"
check "compose: secrets come from files" "secret files True" "$(echo "$facts" | sed -n 6p)"
check "compose: Redis keeps its data in a volume" "redis volume True" "$(echo "$facts" | sed -n 7p)"

# ---- nginx -t ---------------------------------------------------------------
# The snippets in the smallest config a team would write around them.
mkdir -p "$SB_TMP/nginx"
cat >"$SB_TMP/nginx/wrapper.conf" <<EOF
pid $SB_TMP/nginx/nginx.pid;
error_log $SB_TMP/nginx/error.log;
events {}
http {
    include $D/nginx/sessionbridge.conf;
    upstream sessionbridge { server 127.0.0.1:8080; keepalive 8; }
    map "" \$sb_bridge_token { default ""; }
    map "" \$sb_upstream { default app; }
    upstream app { server 127.0.0.1:8000; }
    server {
        listen 127.0.0.1:$(sb_free_port);
        include $D/nginx/sessionbridge-server.conf;
        location / {
            include $D/nginx/sessionbridge-location.conf;
            proxy_pass http://\$sb_upstream;
        }
    }
}
EOF
out=$(nginx -t -p "$SB_TMP/nginx" -e "$SB_TMP/nginx/error.log" -c "$SB_TMP/nginx/wrapper.conf" 2>&1)
rc=$?
check "nginx -t: the snippets in a minimal wrapper" 0 "$rc"
[ "$rc" = 0 ] || echo "$out" | sed 's/^/     /'
check_match "nginx -t says the test is successful" "test is successful" "$out"
# The compose demo's config, with the container names and paths mapped
# onto this machine.
# (/tmp/ first: the checkout itself may live under /tmp.)
sed -e "s|/tmp/|$SB_TMP/nginx/|g" -e "s|/etc/nginx/sessionbridge|$D/nginx|g" \
    -e 's|legacy-app:8000|127.0.0.1:8000|' -e 's|new-app:8001|127.0.0.1:8001|' \
    -e "s|listen 8088;|listen 127.0.0.1:$(sb_free_port);|" \
    "$D/nginx/demo.conf" >"$SB_TMP/nginx/demo.conf"
out=$(nginx -t -p "$SB_TMP/nginx" -e "$SB_TMP/nginx/error.log" -c "$SB_TMP/nginx/demo.conf" 2>&1)
rc=$?
check "nginx -t: docker/nginx/demo.conf with split.conf" 0 "$rc"
[ "$rc" = 0 ] || echo "$out" | sed 's/^/     /'

# ---- the Traefik example ---------------------------------------------------------
facts=$("$PY" - "$D/traefik/dynamic.yml" "$D/demo/sessionbridge.ini" <<'EOF'
import configparser, sys, yaml
t = yaml.safe_load(open(sys.argv[1]))["http"]
ini = configparser.ConfigParser(inline_comment_prefixes=(";",))
ini.read(sys.argv[2])
fa = t["middlewares"]["sessionbridge"]["forwardAuth"]
print(fa["address"].endswith("/v1/auth"))
print(sorted(fa["addAuthCookiesToResponse"]) ==
      sorted(ini[s]["cookie_name"] for s in ini.sections() if s.startswith("profile.")))
print(all(h in fa["authResponseHeaders"] for h in
          ("X-Session-Subject", "X-Session-Id", "X-Session-Profile", "X-Session-Token")))
print(all(h in fa["authRequestHeaders"] for h in ("Cookie", "Authorization")))
r = t["routers"]
print("sessionbridge" in r["migration"]["middlewares"] and "middlewares" not in r["login"])
w = t["services"]["migration"]["weighted"]["services"]
print(sorted(x["name"] for x in w), sum(x["weight"] for x in w))
print(sorted(s["url"] for n in ("legacy", "new") for s in t["services"][n]["loadBalancer"]["servers"]))
EOF
)
check "traefik: forwardAuth calls /v1/auth" True "$(echo "$facts" | sed -n 1p)"
check "traefik: copies exactly the profiles' cookies to the browser" True "$(echo "$facts" | sed -n 2p)"
check "traefik: passes the identity headers on" True "$(echo "$facts" | sed -n 3p)"
check "traefik: sends the credentials to the bridge" True "$(echo "$facts" | sed -n 4p)"
check "traefik: every route but /login is checked" True "$(echo "$facts" | sed -n 5p)"
check "traefik: a weighted split of the two apps" "['legacy', 'new'] 100" "$(echo "$facts" | sed -n 6p)"
check "traefik: the apps are the compose services" "['http://legacy-app:8000', 'http://new-app:8001']" "$(echo "$facts" | sed -n 7p)"

# ---- the Dockerfile --------------------------------------------------------------
facts=$("$PY" - "$SB_SOURCE_DIR" <<'EOF'
import fnmatch, os, re, sys
root = sys.argv[1]
df = open(os.path.join(root, "docker/Dockerfile")).read()
lines = re.sub(r"\\\n", " ", df).splitlines()
stages, cur = {}, None
for l in lines:
    m = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", l, re.I)
    if m:
        cur = m.group(2)
        stages[cur] = {"from": m.group(1), "lines": []}
    elif cur is not None:
        stages[cur]["lines"].append(l)
print("stages", " ".join(stages))
print("last", list(stages)[-1])
print("base", stages["base"]["from"], "ARG DEBIAN_IMAGE=debian:bookworm-slim" in df)
# install-deps.sh uses against the package list
uses = set()
for l in open(os.path.join(root, "docker/packages.txt")):
    if l.strip() and not l.startswith("#"):
        uses.update(l.split()[1:])
asked = set(re.findall(r"install-deps\.sh ([a-z -]+?)(?: &&|$)", df, re.M))
asked = {u for a in asked for u in a.split()}
print("unknown uses", sorted(asked - uses))
# COPY sources exist and are in the build context
ignore = [l.strip() for l in open(os.path.join(root, "docker/Dockerfile.dockerignore"))
          if l.strip() and not l.startswith("#")]
def included(path):
    ok = True
    for pat in ignore:
        neg = pat.startswith("!")
        p = pat[1:] if neg else pat
        p = p.rstrip("/")
        if fnmatch.fnmatch(path, p) or path.startswith(p + "/") or p == "*" or fnmatch.fnmatch(path, p.replace("**/", "*")):
            ok = neg
    return ok
bad = []
for l in lines:
    m = re.match(r"COPY\s+(?!--from)(.*)", l)
    if m:
        for src in m.group(1).split()[:-1]:
            if not os.path.exists(os.path.join(root, src)) or not included(src):
                bad.append(src)
print("bad copies", bad)
b = "\n".join(stages["bridge"]["lines"])
print("bridge user", re.search(r"^USER\s+(\S+)", b, re.M).group(1))
print("bridge health", bool(re.search(r"HEALTHCHECK.*curl.*/health", b)))
print("bridge runtime only", "install-deps.sh runtime" in b and "install-deps.sh build" not in b)
print("bridge config mounted", "COPY" not in b.replace("COPY --from=build", "").replace("COPY docker/sessionbridge.example.ini", "") and "/etc/sessionbridge/sessionbridge.ini" in b)
users = {n: (re.search(r"^USER\s+(\S+)", "\n".join(s["lines"]), re.M) or [None, None])[1]
         for n, s in stages.items() if n in ("legacy-app", "new-app", "router", "store", "bridge")}
print("non-root", all(u and not u.startswith("0") and u != "root" for u in users.values()))
EOF
)
check "Dockerfile: stages" "stages base build legacy-app new-app-build new-app router store bridge" "$(echo "$facts" | sed -n 1p)"
check "Dockerfile: the bridge is the default (last) target" "last bridge" "$(echo "$facts" | sed -n 2p)"
check "Dockerfile: on debian:bookworm-slim" "base \${DEBIAN_IMAGE} True" "$(echo "$facts" | sed -n 3p)"
check "Dockerfile: every install-deps.sh use is in packages.txt" "unknown uses []" "$(echo "$facts" | sed -n 4p)"
check "Dockerfile: every COPY source exists and is in the build context" "bad copies []" "$(echo "$facts" | sed -n 5p)"
check "Dockerfile: the bridge runs as a non-root user" "bridge user 10001:10001" "$(echo "$facts" | sed -n 6p)"
check "Dockerfile: the bridge has a HEALTHCHECK on /health" "bridge health True" "$(echo "$facts" | sed -n 7p)"
check "Dockerfile: the bridge image has runtime packages only" "bridge runtime only True" "$(echo "$facts" | sed -n 8p)"
check "Dockerfile: the bridge's config is mounted, not baked in" "bridge config mounted True" "$(echo "$facts" | sed -n 9p)"
check "Dockerfile: every image runs as non-root" "non-root True" "$(echo "$facts" | sed -n 10p)"
for use in build runtime legacy-app new-app-build new-app router store; do
    n=$(awk -v u="$use" '!/^#/ && NF { for (i = 2; i <= NF; i++) if ($i == u) c++ } END { print c + 0 }' "$D/packages.txt")
    check_match "packages.txt has packages for use '$use'" '^[1-9]' "$n"
done

sb_finish
