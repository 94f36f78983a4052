#!/bin/sh
# Runs the TSan canary ($1) and passes when TSan wrote exactly one report
# and that report names race_canary_counter (race_canary.cpp).
out=$("$1" 2>&1)
reports=$(printf '%s\n' "$out" | grep -c '^WARNING: ThreadSanitizer')
about=$(printf '%s\n' "$out" | grep -c 'race_canary_counter')
echo "canary: $reports report(s), $about line(s) naming race_canary_counter"
[ "$reports" -eq 1 ] && [ "$about" -ge 1 ] && exit 0
printf '%s\n' "$out" | head -80
exit 1
