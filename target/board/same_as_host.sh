# Sourced by the boards' test scripts (after tests/testlib.sh), with P the
# host's picollama, RUNNER the board's launcher and BOARD_LABEL its name.
#
# same_as_host DESCRIPTION MODEL TOKENIZER FLAGS...: the board's stdout and
# exit status are the host's (TOKENIZER "-": none, the model's own).
same_as_host() {
    what=$1; shift
    model=$1; tok=$2; shift 2
    if [ "$tok" = "-" ]; then set -- "$@"; else set -- -z "$tok" "$@"; fi
    "$P" "$model" "$@" > "$d/host" 2>/dev/null; want=$?
    "$RUNNER" "$model" "$@" > "$d/board" 2> "$d/board.err"; got=$?
    if [ "$want" -ne "$got" ]; then
        bad "$what: exit $got on the $BOARD_LABEL, $want on the host"; head -3 "$d/board.err"
    elif ! cmp -s "$d/host" "$d/board"; then
        bad "$what: stdout differs from the host's"; diff "$d/host" "$d/board" | head -4
    else
        ok
    fi
}
