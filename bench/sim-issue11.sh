#!/bin/bash
# Reruns the issue-11 result set of docs/SIMULATION.md (docs/sim-results/issue11/*.json), two runs at
# a time at most (a 2-core machine), then rebuilds docs/sim-report.html:
#   bash bench/sim-issue11.sh
# A run whose JSON exists is skipped (delete it to rerun). Every run: seed 1, 30 % offline unless
# named, 10 % moved, the shipped defaults unless named.
set -euo pipefail
cd "$(dirname "$0")/.."
O=docs/sim-results/issue11
E=../shared/data/ego-facebook.edges
mkdir -p "$O"
run() { # name, mesh sim options…
  local name=$1; shift
  [ -s "$O/$name.json" ] && return 0
  node --import tsx src/cli/main.ts sim "$@" --json > "$O/$name.json.tmp" 2> "$O/$name.log"
  mv "$O/$name.json.tmp" "$O/$name.json"
}
queueA() {
  run ego-default-off0.3 --graph $E --lookups 300
  run ego-nodigests-off0.3 --graph $E --lookups 300 --no-digests
  run ego-dp20-off0.3 --graph $E --lookups 300 --domain-peers 20
  for o in 0 0.1 0.5; do run ego-default-off$o --graph $E --lookups 300 --offline $o; done
  run ego-default-off0.3-L1000 --graph $E --lookups 1000
  run ego-dp20-off0.3-L1000 --graph $E --lookups 1000 --domain-peers 20
}
queueB() {
  run hk10k-default --generate hk:10000:5:0.5 --lookups 300
  run hk10k-dp20 --generate hk:10000:5:0.5 --lookups 300 --domain-peers 20
  run ws10k-default --generate ws:10000:10:0.1 --lookups 300
  run ws10k-dp20 --generate ws:10000:10:0.1 --lookups 300 --domain-peers 20
  for p in 0 0.01 0.03 0.1 0.2 0.3 0.5 1; do run ws5k-p$p --generate ws:5000:10:$p --lookups 500; done
  for p in 0 0.5 0.9; do run hk5k-p$p --generate hk:5000:5:$p --lookups 500; done
}
queueA & A=$!
queueB & B=$!
wait $A $B
# The Kademlia model (seconds each) on the same graphs, churn, latency and lookup pairs.
for o in 0 0.1 0.3 0.5; do run ego-kademlia-off$o --graph $E --strategy kademlia --lookups 300 --offline $o; done
run ego-kademlia-off0.3-L1000 --graph $E --strategy kademlia --lookups 1000
run ego-dp20-kademlia-off0.3 --graph $E --strategy kademlia --lookups 300 --domain-peers 20
run hk10k-kademlia --generate hk:10000:5:0.5 --strategy kademlia --lookups 300
run ws10k-kademlia --generate ws:10000:10:0.1 --strategy kademlia --lookups 300
for p in 0 0.01 0.03 0.1 0.2 0.3 0.5 1; do run ws5k-p$p-kademlia --generate ws:5000:10:$p --strategy kademlia --lookups 500; done
for p in 0 0.5 0.9; do run hk5k-p$p-kademlia --generate hk:5000:5:$p --strategy kademlia --lookups 500; done
node --import tsx bench/sim-clustering.ts $E hk:10000:5:0.5 ws:10000:10:0.1 \
  ws:5000:10:0 ws:5000:10:0.01 ws:5000:10:0.03 ws:5000:10:0.1 ws:5000:10:0.2 ws:5000:10:0.3 \
  ws:5000:10:0.5 ws:5000:10:1 hk:5000:5:0 hk:5000:5:0.5 hk:5000:5:0.9 > "$O/clustering.jsonl"
node --import tsx bench/sim-report-issue11.ts
