# Shared by the shell tests: counters, a scratch directory, the closing line.
# Source it after setting SUITE (the name each line starts with).
pass=0; fail=0; skip=0
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "$SUITE: FAILED: $*"; }
skipped() { skip=$((skip + 1)); echo "$SUITE: SKIPPED: $*"; }
# check 'SHELL CONDITION' 'what it means': one assertion
check() { if eval "$1"; then ok; else bad "$2"; fi; }
# report: the closing line; the status says whether anything failed
report() {
    if [ "$skip" -gt 0 ]; then echo "$SUITE: $pass passed, $fail failed, $skip skipped"
    else echo "$SUITE: $pass passed, $fail failed"; fi
    [ "$fail" -eq 0 ]
}
