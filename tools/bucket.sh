#!/usr/bin/env bash
# Reads a crash report on stdin and prints its bucket: the model's
# "panic: <invariant>" (details with numbers and addresses stripped), or
# the sanitizer's report kind plus the first frame inside the model.
awk '
function strip(s) { gsub(/0x[0-9a-fA-F]+/, "ADDR", s); gsub(/[0-9]+/, "N", s); return s }
/panic: / && !p { line = substr($0, index($0, "panic: ") + 7); n = split(line, a, ": ");
	# "<invariant>: <detail>", and one more level for "quiesce: hang: <who>".
	sig = "panic: " a[1]; if (n > 1) sig = sig ": " strip(a[2]);
	if (n > 2 && a[1] == "quiesce" && a[2] == "hang") sig = sig ": " strip(a[3]); p = 1 }
/ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer)/ && !k { kind = $0; sub(/.*ERROR: /, "", kind); sub(/ on (unknown )?address.*/, "", kind); sub(/ \(pid=.*/, "", kind); k = 1 }
/WARNING: ThreadSanitizer: / && !k { kind = $0; sub(/.*WARNING: /, "", kind); sub(/ \(pid=.*/, "", kind); k = 1 }
/runtime error: / && !k { kind = "UBSan: " strip(substr($0, index($0, "runtime error: ") + 15)); k = 1 }
/^ *#[0-9]+ 0x[0-9a-f]+ in / && k && !f { fn = $4; if (fn !~ /^(__|abort|raise|kern_panic|malloc|free|kmalloc|kfree)/) { frame = fn; f = 1 } }
END {
	if (p) print sig;
	else if (k) print kind (f ? " in " frame : "");
}'
