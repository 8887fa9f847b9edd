#!/usr/bin/env bash
# A real Kubernetes control plane on this machine, for riff's Kubernetes tests (no Docker, kind
# or k3s needed): etcd, kube-apiserver, kube-controller-manager, kube-scheduler and one kubemark
# hollow node (a real kubelet over a fake container runtime), Kubernetes 1.20.2 built from
# Debian's source package. See docs/kubernetes.md, "The test control plane".
set -euo pipefail

CACHE="${RIFF_K8S_CACHE:-/var/cache/riff-k8s}"
BIN="$CACHE/bin"
# Debian's source package (bookworm). The stamp records it and this recipe's revision: a change to
# either rebuilds.
DEB_SRC_PKG=kubernetes
DEB_SRC_VERSION="${RIFF_K8S_DEB_VERSION:-1.20.5+really1.20.2-1.1+deb12u1}"
RECIPE=2
STAMP="$BIN/.built"
STAMP_TEXT="$DEB_SRC_PKG $DEB_SRC_VERSION recipe $RECIPE"
COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubemark)
NODE_NAME=hollow-node-0

usage() {
  cat <<EOF
Usage: scripts/k8s-control-plane.sh COMMAND [DIR]

A Kubernetes 1.20.2 control plane on 127.0.0.1 for tests: etcd, kube-apiserver,
kube-controller-manager, kube-scheduler and one kubemark hollow node ("$NODE_NAME").

Commands:
  build       Build the four Kubernetes binaries from Debian's source package
              ($DEB_SRC_PKG $DEB_SRC_VERSION) into \$RIFF_K8S_CACHE/bin
              (default $CACHE). Done once: skipped when already built.
              Takes about 10 minutes on 2 cores; installs missing Debian build tools.
  start DIR   Start a control plane with its state, certificates, logs and kubeconfig in DIR
              (on free ports); returns when the API server is ready and the node is Ready.
              Writes DIR/kubeconfig (admin), DIR/env and DIR/pids.
  stop DIR    Stop the processes listed in DIR/pids, and wait for them to exit.
  status DIR  Show which of them run, and whether the API server is ready.

Environment:
  RIFF_K8S_CACHE   where 'build' puts the source tree (src/, ~3 GB, kept for quick rebuilds)
                   and the binaries (bin/, ~340 MB) (default /var/cache/riff-k8s)

Examples:
  scripts/k8s-control-plane.sh build
  dir=\$(mktemp -d) && scripts/k8s-control-plane.sh start "\$dir"
  . "\$dir/env" && kubectl get nodes          # KUBECONFIG, RIFF_K8S_SERVER, RIFF_K8S_TOKEN
  scripts/k8s-control-plane.sh status "\$dir"
  scripts/k8s-control-plane.sh stop "\$dir" && rm -rf "\$dir"

What it does not verify: a real kubelet running containers, CNI and pod networking, DNS,
Services, image pulls. Hollow pods get fake IPs: never dial pod or Service IPs.
EOF
}

die() { echo "k8s-control-plane: $*" >&2; exit 1; }
log() { echo "k8s-control-plane: $*"; }
need() { command -v "$1" >/dev/null 2>&1 || die "missing tool '$1'${2:+ ($2)}"; }

# ---------------------------------------------------------------------------------------------
# build

# apt options for a deb-src view of this machine's own Debian sources, in the cache: no system
# apt file changes. deb822 files get "Types: deb-src"; one-line files get "deb-src" lines.
apt_src_opts() {
  local a="$CACHE/apt"
  rm -rf "$a" && mkdir -p "$a/sources.list.d" "$a/lists/partial"
  : >"$a/sources.list"
  if [ -f /etc/apt/sources.list ]; then
    sed -nE 's/^[[:space:]]*deb[[:space:]]+/deb-src /p' /etc/apt/sources.list >>"$a/sources.list"
  fi
  local f
  for f in /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -nE 's/^[[:space:]]*deb[[:space:]]+/deb-src /p' "$f" >>"$a/sources.list"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed -E 's/^Types:.*/Types: deb-src/' "$f" >"$a/sources.list.d/$(basename "$f")"
  done
  APT_SRC=(-o "Dir::Etc::sourcelist=$a/sources.list" -o "Dir::Etc::sourceparts=$a/sources.list.d"
    -o "Dir::State::Lists=$a/lists" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")
}

built() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_TEXT" ] || return 1
  local c
  for c in "${COMPONENTS[@]}"; do [ -x "$BIN/$c" ] || return 1; done
}

cmd_build() {
  if built; then
    log "already built: $STAMP_TEXT in $BIN (skipping; delete $STAMP to rebuild)"
    return 0
  fi
  local t0=$SECONDS
  need apt-get "a Debian machine"
  # Debian build tools: Go 1.19 (golang), rsync and jq (Kubernetes' hack/ scripts), make,
  # dpkg-source (dpkg-dev) and the newer reflect2 (see below).
  local missing=()
  command -v go >/dev/null 2>&1 || missing+=(golang)
  command -v rsync >/dev/null 2>&1 || missing+=(rsync)
  command -v jq >/dev/null 2>&1 || missing+=(jq)
  command -v make >/dev/null 2>&1 || missing+=(make)
  command -v dpkg-source >/dev/null 2>&1 || missing+=(dpkg-dev)
  local reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
  [ -f "$reflect2/reflect2.go" ] || missing+=(golang-github-modern-go-reflect2-dev)
  # What 'start' needs, installed here too so that a built machine can start.
  command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  local gov
  gov=$(go env GOVERSION)
  log "building $DEB_SRC_PKG $DEB_SRC_VERSION with $gov into $BIN"

  # 1. The source package, with Debian's patches applied (by dpkg-source).
  local src="$CACHE/src" tree
  mkdir -p "$src"
  tree=$(find "$src" -maxdepth 1 -mindepth 1 -type d -name "$DEB_SRC_PKG-*" | head -n1)
  if [ -z "$tree" ] || [ ! -f "$src/.fetched" ] || [ "$(cat "$src/.fetched")" != "$DEB_SRC_VERSION" ]; then
    rm -rf "$src" && mkdir -p "$src"
    apt_src_opts
    log "fetching the source package (apt-get source $DEB_SRC_PKG=$DEB_SRC_VERSION)"
    # A third-party source without deb-src indexes fails the update: warn and go on, since
    # 'apt-get source' below says clearly if the package is still not found.
    apt-get "${APT_SRC[@]}" update -qq || log "warning: apt-get update of the deb-src indexes reported errors (above)"
    (cd "$src" && apt-get "${APT_SRC[@]}" source -qq "$DEB_SRC_PKG=$DEB_SRC_VERSION" 2>&1 | grep -v 'unsandboxed as root' || true)
    tree=$(find "$src" -maxdepth 1 -mindepth 1 -type d -name "$DEB_SRC_PKG-*" | head -n1)
    [ -n "$tree" ] && [ -f "$tree/cmd/kube-apiserver/apiserver.go" ] || die "apt-get source $DEB_SRC_PKG=$DEB_SRC_VERSION gave no source tree in $src"
    echo "$DEB_SRC_VERSION" >"$src/.fetched"
  fi

  # 2. Patches.
  # The vendored github.com/modern-go/reflect2 v1.0.1 breaks on Go >= 1.18 (SIGSEGV in
  # UnsafeMapType.UnsafeIterate on the first custom-resource watch event; modern-go/reflect2#26):
  # use Debian's 1.0.2 instead.
  rsync -a --delete --exclude 'BUILD' "$reflect2/" "$tree/vendor/github.com/modern-go/reflect2/"
  # The hollow kubelet binds 0.0.0.0, serves healthz on a fixed port (10248) and, run as root,
  # would add its KUBE-* chains to the host's iptables: bind 127.0.0.1, turn healthz off and leave
  # iptables alone, so that parallel control planes never collide and the host is not changed.
  # (Idempotent: the lines marked "riff-test" are dropped, then written again.)
  local hk="$tree/pkg/kubemark/hollow_kubelet.go"
  sed -i -e '/riff-test: /d' \
    -e 's|^\tc.Address = .*/\* bind address \*/$|\tc.Address = "127.0.0.1" /* bind address */\n\tc.HealthzPort = 0 /* riff-test: no fixed port */\n\tc.MakeIPTablesUtilChains = false /* riff-test: never touch the host iptables */|' \
    "$hk"
  grep -q 'c.Address = "127.0.0.1"' "$hk" && grep -q 'c.MakeIPTablesUtilChains = false' "$hk" ||
    die "could not patch $hk (the hollow kubelet's addresses and iptables)"
  # Its root dir goes to a fixed /tmp: make it follow $TMPDIR (start points it into DIR).
  local td="$tree/test/utils/tmpdir.go"
  sed -i 's|^\t\tbaseDir = "/tmp"$|\t\tbaseDir = "" // riff-test: ioutil.TempDir then follows $TMPDIR|' "$td"
  grep -q 'riff-test: ioutil.TempDir' "$td" || die "could not patch $td (the hollow kubelet's temp dir)"

  # 3. Build, in GOPATH mode as Debian's rules do (GO111MODULE=off, k8s.io/kubernetes symlinked
  # into .go/src); Kubernetes' hack/ keeps Go's cache in the tree (_output/local/go/cache). nice,
  # as the machine may be busy.
  mkdir -p "$tree/.go/src/k8s.io"
  [ -L "$tree/.go/src/k8s.io/kubernetes" ] || ln -s ../../.. "$tree/.go/src/k8s.io/kubernetes"
  log "compiling ${COMPONENTS[*]} (about 10 minutes on 2 cores)"
  (
    cd "$tree/.go/src/k8s.io/kubernetes"
    export GOPATH="$tree/.go" GO111MODULE=off CGO_ENABLED=0 GOFLAGS=
    nice -n 10 make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubemark"
  ) >"$CACHE/build.log" 2>&1 || { tail -n 40 "$CACHE/build.log" >&2; die "the build failed: see $CACHE/build.log"; }

  mkdir -p "$BIN"
  local c
  for c in "${COMPONENTS[@]}"; do
    install -m 0755 "$tree/_output/bin/$c" "$BIN/$c"
  done
  echo "$STAMP_TEXT" >"$STAMP"
  "$BIN/kube-apiserver" --version
  log "built in $((SECONDS - t0)) s: $(cd "$BIN" && ls | tr '\n' ' ')"
  log "(the source tree, $CACHE/src, about 3 GB with Go's cache, may be deleted: only bin/ is used)"
}

# ---------------------------------------------------------------------------------------------
# start / stop / status

# N ports free now on 127.0.0.1 (bound together, then released for the components to take).
free_ports() {
  node -e '
    const net = require("node:net");
    const n = Number(process.argv[1]);
    const servers = Array.from({ length: n }, () => net.createServer().listen(0, "127.0.0.1"));
    Promise.all(servers.map((s) => new Promise((r) => s.on("listening", r)))).then(() => {
      console.log(servers.map((s) => s.address().port).join(" "));
      servers.forEach((s) => s.close());
    });' "$1"
}

# Starts a component in the background with its output in DIR/logs/NAME.log; records its pid.
launch() {
  local name=$1; shift
  # setsid: its own session, so that a Ctrl-C on the caller's terminal does not reach it.
  setsid "$@" </dev/null >"$DIR/logs/$name.log" 2>&1 &
  echo "$name $!" >>"$DIR/pids"
  log "started $name (pid $!)"
}

alive() { kill -0 "$1" 2>/dev/null; }

# Fails naming the component (and its log's tail) if one of the started processes has exited.
check_alive() {
  local name pid
  while read -r name pid; do
    if ! alive "$pid"; then
      echo "--- $DIR/logs/$name.log (tail)" >&2
      tail -n 25 "$DIR/logs/$name.log" >&2 || true
      die "$name (pid $pid) exited during start"
    fi
  done <"$DIR/pids"
}

api() { # api METHOD PATH [curl args...]
  local method=$1 path=$2; shift 2
  curl -sS --fail --max-time 5 --cacert "$DIR/pki/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" \
    -X "$method" "$SERVER$path" "$@"
}

# Polls `cond` (a command) every 0.1 s until it succeeds, failing after `secs` seconds.
wait_for() {
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    check_alive
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${secs}s waiting for $what"
    sleep 0.1
  done
}

node_ready() {
  api GET "/api/v1/nodes/$NODE_NAME" | jq -e '.status.conditions[] | select(.type == "Ready" and .status == "True")'
}
node_untainted() {
  api GET "/api/v1/nodes/$NODE_NAME" | jq -e '[.spec.taints // [] | .[] | select(.key == "node.kubernetes.io/not-ready")] | length == 0'
}
# The node lifecycle controller is off (it would act on the hollow node's heartbeats as on a real
# node's), so the not-ready taint that admission put on the new node is removed here, once Ready.
untaint_node() {
  local node patch
  node=$(api GET "/api/v1/nodes/$NODE_NAME")
  patch=$(jq -c '{metadata: {resourceVersion: .metadata.resourceVersion}, spec: {taints: [.spec.taints // [] | .[] | select(.key != "node.kubernetes.io/not-ready")]}}' <<<"$node")
  api PATCH "/api/v1/nodes/$NODE_NAME" -H 'Content-Type: application/merge-patch+json' --data "$patch" >/dev/null
}

cmd_start() {
  local t0=$SECONDS
  [ -n "${DIR:-}" ] || die "start needs a DIR (see --help)"
  for c in "${COMPONENTS[@]}"; do
    [ -x "$BIN/$c" ] || die "missing $BIN/$c: build the binaries first with: scripts/k8s-control-plane.sh build"
  done
  need etcd "apt-get install etcd-server"
  need openssl "apt-get install openssl"
  need curl "apt-get install curl"
  need jq "apt-get install jq"
  need node
  need setsid "util-linux"
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  if [ -s "$DIR/pids" ]; then die "$DIR/pids exists: stop that control plane first (stop $DIR)"; fi
  mkdir -p "$DIR/pki" "$DIR/logs" "$DIR/etcd" "$DIR/tmp" "$DIR/kcm" "$DIR/scheduler"
  : >"$DIR/pids"
  # On failure, stop whatever was started.
  trap 'rc=$?; if [ $rc -ne 0 ]; then echo "k8s-control-plane: start failed; stopping what it started (logs in $DIR/logs)" >&2; cmd_stop >&2 || true; fi' EXIT

  # Each component's ports are picked just before it starts (a port picked free may be taken by
  # someone else before the component binds it; keep that window short). A component that cannot
  # bind exits, and start fails naming it.
  local etcd_port peer_port api_port kcm_port sched_port kubelet_port

  # Certificates: a CA, the API server's serving certificate, and the service-account key pair.
  local pki="$DIR/pki"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=riff-test-ca" -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1\nextendedKeyUsage=serverAuth\n' >"$pki/apiserver.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 3650 -extfile "$pki/apiserver.ext" -out "$pki/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null

  # Static tokens: an admin (system:masters) and one identity per component.
  token() { openssl rand -hex 24; }
  ADMIN_TOKEN=$(token)
  local kcm_token sched_token node_token
  kcm_token=$(token); sched_token=$(token); node_token=$(token)
  cat >"$pki/tokens.csv" <<EOF
$ADMIN_TOKEN,admin,admin,system:masters
$kcm_token,system:kube-controller-manager,kcm
$sched_token,system:kube-scheduler,scheduler
$node_token,system:node:$NODE_NAME,$NODE_NAME,system:nodes
EOF
  chmod 600 "$pki/tokens.csv" "$pki"/*.key
  kubeconfig() { # kubeconfig FILE USER TOKEN
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: riff-test
  cluster:
    server: $SERVER
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: $2
  user:
    token: $3
contexts:
- name: riff-test
  context:
    cluster: riff-test
    user: $2
current-context: riff-test
EOF
    chmod 600 "$1"
  }
  read -r etcd_port peer_port <<<"$(free_ports 2)"
  launch etcd etcd --name riff-test --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "riff-test=http://127.0.0.1:$peer_port" --log-level warn
  wait_for "etcd on port $etcd_port" 30 curl -sf --max-time 2 "http://127.0.0.1:$etcd_port/health"

  read -r api_port <<<"$(free_ports 1)"
  SERVER="https://127.0.0.1:$api_port"
  kubeconfig "$DIR/kubeconfig" admin "$ADMIN_TOKEN"
  kubeconfig "$DIR/kcm/kubeconfig" system:kube-controller-manager "$kcm_token"
  kubeconfig "$DIR/scheduler/kubeconfig" system:kube-scheduler "$sched_token"
  kubeconfig "$DIR/node.kubeconfig" "system:node:$NODE_NAME" "$node_token"
  cat >"$DIR/env" <<EOF
KUBECONFIG=$DIR/kubeconfig
RIFF_K8S_SERVER=$SERVER
RIFF_K8S_TOKEN=$ADMIN_TOKEN
EOF

  launch kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" --insecure-port 0 \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" --token-auth-file "$pki/tokens.csv" \
    --authorization-mode Node,RBAC \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range 10.0.0.0/24 --endpoint-reconciler-type none \
    --allow-privileged --cert-dir "$DIR/pki"
  wait_for "the API server's /readyz on $SERVER" 90 api GET /readyz

  read -r kcm_port sched_port kubelet_port <<<"$(free_ports 3)"
  launch kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig "$DIR/kcm/kubeconfig" --use-service-account-credentials \
    --authentication-kubeconfig "$DIR/kcm/kubeconfig" --authorization-kubeconfig "$DIR/kcm/kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$kcm_port" --port 0 --cert-dir "$DIR/kcm" \
    --leader-elect=false --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --controllers '*,-nodelifecycle' --enable-garbage-collector=true
  launch kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig "$DIR/scheduler/kubeconfig" \
    --authentication-kubeconfig "$DIR/scheduler/kubeconfig" --authorization-kubeconfig "$DIR/scheduler/kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$sched_port" --port 0 --cert-dir "$DIR/scheduler" \
    --leader-elect=false
  # The hollow node: kubemark's kubelet morph (the real kubelet, fake runtime and cAdvisor). Its
  # temp dirs (root dir, static pods) go into DIR/tmp.
  TMPDIR="$DIR/tmp" launch kubemark "$BIN/kubemark" --morph kubelet --name "$NODE_NAME" \
    --kubeconfig "$DIR/node.kubeconfig" --kubelet-port "$kubelet_port" --kubelet-read-only-port 0 \
    --kube-api-content-type application/json

  wait_for "kube-controller-manager's /healthz (port $kcm_port)" 60 curl -skf --max-time 2 "https://127.0.0.1:$kcm_port/healthz"
  wait_for "kube-scheduler's /healthz (port $sched_port)" 60 curl -skf --max-time 2 "https://127.0.0.1:$sched_port/healthz"
  wait_for "node $NODE_NAME Ready" 90 node_ready
  wait_for "node $NODE_NAME free of its not-ready taint" 30 eval 'node_untainted || { untaint_node; false; }'
  wait_for "the default service account" 60 api GET /api/v1/namespaces/default/serviceaccounts/default

  trap - EXIT
  log "ready in $((SECONDS - t0)) s: $SERVER (etcd :$etcd_port, controller-manager :$kcm_port, scheduler :$sched_port, $NODE_NAME kubelet :$kubelet_port)"
  log "kubeconfig: $DIR/kubeconfig; env: $DIR/env; pids: $DIR/pids; logs: $DIR/logs"
}

cmd_stop() {
  [ -n "${DIR:-}" ] || die "stop needs a DIR (see --help)"
  [ -f "$DIR/pids" ] || { log "nothing to stop: no $DIR/pids"; return 0; }
  local name pid left
  local -a pids=()
  # Reverse order: the node and controllers before the API server, the API server before etcd.
  while read -r name pid; do
    [ -n "$pid" ] || continue
    pids=("$pid" "${pids[@]}")
  done <"$DIR/pids"
  for pid in "${pids[@]}"; do alive "$pid" && kill -TERM "$pid" 2>/dev/null || true; done
  local deadline=$((SECONDS + 15))
  for pid in "${pids[@]}"; do
    while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
  done
  left=()
  for pid in "${pids[@]}"; do alive "$pid" && left+=("$pid"); done
  if [ "${#left[@]}" -gt 0 ]; then
    log "still running after SIGTERM, killing: ${left[*]}"
    kill -KILL "${left[@]}" 2>/dev/null || true
    for pid in "${left[@]}"; do while alive "$pid"; do sleep 0.05; done; done
  fi
  : >"$DIR/pids"
  log "stopped"
}

cmd_status() {
  [ -n "${DIR:-}" ] || die "status needs a DIR (see --help)"
  [ -s "$DIR/pids" ] || { echo "not running (no pids in $DIR/pids)"; return 1; }
  local name pid rc=0
  while read -r name pid; do
    if alive "$pid"; then echo "$name: running (pid $pid)"; else echo "$name: NOT running (pid $pid)"; rc=1; fi
  done <"$DIR/pids"
  # shellcheck disable=SC1091
  . "$DIR/env"
  if curl -sf --max-time 5 --cacert "$DIR/pki/ca.crt" -H "Authorization: Bearer $RIFF_K8S_TOKEN" "$RIFF_K8S_SERVER/readyz" >/dev/null; then
    echo "api server: ready at $RIFF_K8S_SERVER"
  else
    echo "api server: NOT ready at $RIFF_K8S_SERVER"; rc=1
  fi
  return $rc
}

case "${1:-}" in
  build) cmd_build ;;
  start) DIR="${2:-}"; cmd_start ;;
  stop) DIR="${2:-}"; cmd_stop ;;
  status) DIR="${2:-}"; cmd_status ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
