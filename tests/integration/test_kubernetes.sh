#!/bin/bash
# test_kubernetes.sh - contrib/kubernetes/: every manifest parses
# (python3-yaml), the sidecar's probes name routes of src/http/routes.c on
# the port the ConfigMap's INI listens on, the ingress-nginx annotations
# point at the bridge's /v1/auth through the Service and ask only for
# headers the code sends, the grace period covers preStop + drain, the
# mounts hold every file the INI names, and the ConfigMap's INI passes the
# real `sessionbridge --check-config` once its keys exist (the Secret's
# placeholders are refused).  Cost: about a second (no servers).
. "$(dirname "$0")/../harness/lib.sh"

k8s=$SB_SOURCE_DIR/contrib/kubernetes

# One line per fact: "what<TAB>expected<TAB>got"; the INI is written to
# $SB_TMP/sb.ini, the Secret's keys to $SB_TMP/placeholders/.
facts=$(python3 - "$k8s" "$SB_SOURCE_DIR" "$SB_TMP" <<'PY'
import configparser, glob, os, re, sys
import yaml

k8s, src, tmp = sys.argv[1:4]
out = []
def fact(what, expected, got):
    out.append("%s\t%s\t%s" % (what, expected, got))

docs = []
for path in sorted(glob.glob(os.path.join(k8s, "*.yaml"))):
    try:
        loaded = [d for d in yaml.safe_load_all(open(path)) if d is not None]
        ok = all(d.get("apiVersion") and d.get("kind") and d["metadata"].get("name") for d in loaded)
        fact("%s parses, each object has apiVersion, kind, name" % os.path.basename(path), True, ok and len(loaded) > 0)
        docs += loaded
    except Exception as e:  # a parse error is a failed fact, not a crash
        fact("%s parses" % os.path.basename(path), "parsed", str(e).replace("\n", " "))
def one(kind, name=None):
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    return found[0] if len(found) == 1 else None
fact("the kinds", "ConfigMap ConfigMap Deployment Ingress NetworkPolicy PodDisruptionBudget Secret Service",
     " ".join(sorted(d["kind"] for d in docs)))

# The routes of the code: first string of each row of the route table.
routes = re.findall(r'^\s*\{"(/[^"]*)",.*?(SB_M_[A-Z_|\s]+)', open(os.path.join(src, "src/http/routes.c")).read(), re.M)
route_methods = {p: m for p, m in routes}
sent_headers = set()
for f in glob.glob(os.path.join(src, "src/*/*.c")):
    sent_headers |= set(re.findall(r'"(X-Session-[A-Za-z-]+)"', open(f).read()))

dep = one("Deployment")
spec = dep["spec"]["template"]["spec"]
bridge = [c for c in spec["containers"] if c["name"] == "sessionbridge"][0]
ports = {p["name"]: p["containerPort"] for p in bridge["ports"]}
def port_of(p):
    return ports.get(p, p) if isinstance(p, str) else p

# The INI as the sidecar reads it: -c PATH in a ConfigMap volume.
conf_path = bridge["args"][bridge["args"].index("-c") + 1]
mounts = {m["mountPath"]: m["name"] for m in bridge["volumeMounts"]}
vols = {v["name"]: v for v in spec["volumes"]}
conf_vol = vols[mounts[os.path.dirname(conf_path)]]
cm = one("ConfigMap", conf_vol["configMap"]["name"])
ini_text = cm["data"][os.path.basename(conf_path)]
ini = configparser.ConfigParser(inline_comment_prefixes=(";",))
ini.read_string(ini_text)
listen_port = int(ini["http"]["listen"].rsplit(":", 1)[1])
fact("the INI listens on all interfaces (probes and ingress reach it)", "0.0.0.0", ini["http"]["listen"].rsplit(":", 1)[0])

for probe, path in (("livenessProbe", "/health"), ("readinessProbe", "/ready")):
    get = bridge[probe]["httpGet"]
    fact("%s path" % probe, path, get["path"])
    fact("%s path is a GET route of routes.c" % probe, True, "SB_M_GET" in route_methods.get(get["path"], ""))
    fact("%s port is the INI's listen port" % probe, listen_port, port_of(get["port"]))

# preStop sleep, then SIGTERM drains for drain_timeout: the grace period covers both.
pre = bridge["lifecycle"]["preStop"]["exec"]["command"]
fact("preStop sleeps", "sleep", pre[0])
drain = int(ini["http"].get("drain_timeout", "10"))
fact("terminationGracePeriodSeconds covers preStop + drain_timeout", True,
     spec["terminationGracePeriodSeconds"] > int(pre[1]) + drain)

# Every *_file of the INI is a key of the Secret mounted at its directory.
secret_files = []
for section in ini.sections():
    for key, value in ini[section].items():
        if key.endswith("_file"):
            secret_files.append(value)
secret = one("Secret")
for f in secret_files:
    vol = vols.get(mounts.get(os.path.dirname(f)), {})
    fact("%s is in the Secret's mount" % f, secret["metadata"]["name"], vol.get("secret", {}).get("secretName"))
    fact("%s is a key of the Secret" % f, True, os.path.basename(f) in secret["stringData"])
os.makedirs(os.path.join(tmp, "placeholders"))
for name, value in secret["stringData"].items():
    with open(os.path.join(tmp, "placeholders", name), "w") as fh:
        fh.write(value)
with open(os.path.join(tmp, "sb.ini"), "w") as fh:
    fh.write(ini_text)
fact("the INI's secrets directory", "/run/secrets/sessionbridge", os.path.dirname(secret_files[0]))

# Service -> the bridge's container port; the ingress's auth-url -> that Service port.
svc = one("Service")
svc_port = [p for p in svc["spec"]["ports"] if port_of(p["targetPort"]) == listen_port]
fact("the Service has a port to the bridge", 1, len(svc_port))
fact("the Service selects the Deployment's pods", True,
     all(dep["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in svc["spec"]["selector"].items()))
ing = one("Ingress")
ann = ing["metadata"]["annotations"]
m = re.match(r"http://([^.]+)\.([^.]+)\.svc\.cluster\.local:(\d+)(/.*)$", ann["nginx.ingress.kubernetes.io/auth-url"])
fact("auth-url names the Service", svc["metadata"]["name"], m and m.group(1))
fact("auth-url port is the Service's bridge port", svc_port[0]["port"] if svc_port else None, m and int(m.group(3)))
fact("auth-url path is the forward-auth route", "/v1/auth", m and m.group(4))
fact("auth-url path is a route of routes.c", True, bool(m) and m.group(4) in route_methods)
asked = ann["nginx.ingress.kubernetes.io/auth-response-headers"].split(",")
fact("auth-response-headers are headers the code sends", [], sorted(set(asked) - sent_headers))
fact("auth-response-headers carry the subject", True, "X-Session-Subject" in asked)
ns, hdr_cm = ann["nginx.ingress.kubernetes.io/auth-proxy-set-headers"].split("/")
fact("auth-proxy-set-headers: the namespace of auth-url", m and m.group(2), ns)
fact("auth-proxy-set-headers names a ConfigMap with X-Bridge-Token", True,
     "X-Bridge-Token" in ((one("ConfigMap", hdr_cm) or {}).get("data") or {}))
fact("the Ingress routes to the Service", svc["metadata"]["name"],
     ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"])

pdb = one("PodDisruptionBudget")
fact("the PodDisruptionBudget selects the Deployment's pods", dep["spec"]["selector"], pdb["spec"]["selector"])
fact("more replicas than the budget's minAvailable", True, dep["spec"]["replicas"] > pdb["spec"]["minAvailable"])
print("\n".join(out))
PY
)
check "the manifest checker runs" 0 $?
while IFS=$'\t' read -r what expected got; do
    check "$what" "$expected" "$got"
done <<<"$facts"

# The ConfigMap's INI with the Secret's placeholders: refused.
sed "s|/run/secrets/sessionbridge|$SB_TMP/placeholders|" "$SB_TMP/sb.ini" >"$SB_TMP/placeholder.ini"
chmod 600 "$SB_TMP"/placeholders/*
"$SB_BIN" --check-config -c "$SB_TMP/placeholder.ini" >/dev/null 2>"$SB_TMP/placeholder.err"
check "the Secret's placeholders are refused" 1 $?
check_match "... naming the file" "placeholders/.*#" "$(cat "$SB_TMP/placeholder.err")"

# The same INI with real keys: accepted by the daemon's own check.
keys=$SB_TMP/keys
mkdir -m 700 "$keys"
rnd() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
echo "hex:$(rnd)" >"$keys/legacy.secrets"
printf 'backend %s\nadmin %s\n' "$(rnd)" "$(rnd)" >"$keys/tokens"
rnd >"$keys/redis.password"
"$SB_CTL" keys generate --alg RS256 --out "$keys/jwt.pem" --pub "$keys/jwt.pub.pem" >/dev/null 2>&1
chmod 600 "$keys"/*
sed "s|/run/secrets/sessionbridge|$keys|" "$SB_TMP/sb.ini" >"$SB_TMP/real.ini"
out=$("$SB_BIN" --check-config -c "$SB_TMP/real.ini" 2>&1)
check "the ConfigMap's INI passes --check-config with its keys ($out)" 0 $?

sb_finish
