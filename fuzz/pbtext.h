/*
 * A readable text form for any protobuf-c message, in the style of
 * protobuf's text format:
 *
 *	# a comment
 *	name: "eth0"			strings: C escapes, \xNN, \NNN
 *	payload: "\x45\x00\x00\x14"	bytes: printable as is, else all \xNN
 *	mtu: 1500			integers: decimal (0x hex accepted)
 *	kind: KIND_VLAN			enums by name (a number is accepted)
 *	up: true
 *	ops {				sub-messages; a repeated field is
 *	  send { len: 9000 }		one entry per element, in order
 *	}
 *	ops { close { } }
 *	ids: [1, 2, 3]			list form accepted for repeated fields
 *
 * The printer emits exactly the fields that pack (proto3 zero values are
 * omitted, a selected oneof member and proto2 has_ fields are printed), in
 * descriptor order, two spaces of indent per level.  For a message without
 * unknown fields and at most PBTEXT_MAX_DEPTH levels deep the round trip
 * is exact: pbtext_parse(print(m)) packs to the same bytes as m, and
 * printing it again gives the same text.
 *
 * The parser rejects anything else with a one-line "line:col: message"
 * error: unknown field or enum names, out-of-range numbers, a singular
 * field or a oneof given twice, NUL inside a string field, nesting deeper
 * than PBTEXT_MAX_DEPTH, more than PBTEXT_MAX_INPUT bytes of text or
 * PBTEXT_MAX_ALLOC bytes of message.
 */
#ifndef _FUZZ_PBTEXT_H_
#define	_FUZZ_PBTEXT_H_

#include <stddef.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#define	PBTEXT_MAX_DEPTH	64
#define	PBTEXT_MAX_INPUT	(16u << 20)
#define	PBTEXT_MAX_ALLOC	(64u << 20)

/*
 * Text of msg into a malloc'd, NUL-terminated buffer (*len excludes the
 * NUL).  Returns 0 when the text is exact, 1 when something could not be
 * represented (unknown fields, nesting deeper than PBTEXT_MAX_DEPTH: both
 * are noted in '#' comments), -1 on allocation failure (*out = NULL).
 */
int	pbtext_format(const ProtobufCMessage *msg, char **out, size_t *len);
/* Same, written to fp; -1 also on a write error. */
int	pbtext_print(const ProtobufCMessage *msg, FILE *fp);

/*
 * Parse text (len bytes, need not be NUL-terminated) as a message of type
 * desc.  Returns the message (free with pbmsg_free() or
 * protobuf_c_message_free_unpacked(m, NULL)) or NULL with a one-line
 * "line:col: message" in err (if err != NULL and errlen > 0).
 */
ProtobufCMessage *pbtext_parse(const ProtobufCMessageDescriptor *desc,
	    const char *text, size_t len, char *err, size_t errlen);

#endif /* !_FUZZ_PBTEXT_H_ */
