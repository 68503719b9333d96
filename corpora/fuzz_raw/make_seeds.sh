#!/usr/bin/env bash
# Writes the fuzz_raw seeds (see fuzz/raw_decode.c for the encoding):
# byte 0 picks the topology, then opcode + 1..3 argument bytes per op.
# Opcodes: 00 open 01 connect 02 set_rate 03 flowtype_none 04 send 05 close
# 06 tcpdrop 07 receive 08 epair_deliver 09 route_add 0a route_change
# 0b route_delete 0c vlan_reparent 0d/0e lagg_port_add/remove 0f link
# 10 lagg_proto 11 lagg_opts 12 detach 13 nic_txeof 14 mlx5_complete
# 15 cxgbe_ack 16 mlx5_worker 17 taskqueue 18 epoch 19 deliver_all
# 1a tag_modify 1b tag_query 1c fail_alloc 1d tls_enable 1e tls_send
# 1f pacing; bit 7 extends the opcode: 80 ifcap (iface, txrtlmt & 1);
# bits 5-6: thread.
set -eu
cd "$(dirname "$0")"
seed() { printf "$2" > "$1.raw"; }
# Common flow on destination 0: open v4 tcp + connect, rate 125000,
# send 3000 twice, query, tcpdrop.
flow='\x00\x04\x02\x00\x02\x04\x00\x0b\xb8\x04\x00\x0b\xb8\x1b\x00\x06\x00'
# Then: complete every ring/flow, close, drain.
done_='\x13\x00\x00\x13\x01\x00\x15\x00\x00\x00\x14\x00\x00\x16\x00\x00\x05\x00\x19\x00'
seed t0_nic_tcpdrop "\x00${flow}${done_}"
seed t1_vlan_reparent "\x01${flow}\x0c\x00\x01\x04\x00\x05\xdc\x0c\x00\xff\x04\x00\x05\xdc${done_}"
seed t2_lagg_failover "\x02${flow}\x0f\x00\x00\x04\x00\x05\xdc\x10\x00\x01\x04\x00\x05\xdc${done_}"
seed t3_cxgbe "\x03${flow}\x05\x00\x15\x00\x00\x10\x15\x00\x00\x00${done_}"
seed t4_mlx5_detach "\x04${flow}\x16\x00\x00\x12\x00\x04\x00\x03\xe8${done_}"
seed t5_epair "\x05\x00\x02\x04\x00\x03\xe8\x08\x00\x07\x02\x05\x20${done_}"
seed t6_vlan_lagg "\x06${flow}\x12\x00\x04\x00\x05\xdc\x0a\x00\x01\x04\x00\x05\xdc${done_}"
seed t7_forward "\x07\x07\x01\x04\x40\x07\x01\x05\x40\x07\x06\x08\x40${flow}\x0a\x00\x01\x04\x00\x05\xdc${done_}"
seed t0_udp_fragments "\x00\x00\x06\x02\x00\x02\x04\x00\x27\x10\x00\x07\x02\x01\x00\x02\x04\x01\x27\x10${done_}"
seed t7_fail_alloc "\x07\x1c\x01\x06${flow}\x1c\x02\x01\x04\x00\x0b\xb8\x1c\x00\x00${done_}"
# Kernel TLS on mlx5: a paced session (TLS + rate limit tag, nested
# rate-limit tag), records, pacing change and query, a second session
# without a rate, then the port is detached under both.
seed t4_mlx5_tls "\x04\x00\x04\x02\x00\x02\x1d\x00\x00\x1e\x00\x01\x7d\x1f\x00\x01\x03\x16\x00\x00\x1f\x00\x02\x00\x00\x0c\x1d\x01\x01\x1e\x01\x03\x40\x12\x00\x1e\x00\x00\x10\x17\x01${done_}"
# Capability changes: vlan over a loadbalance lagg of cxgbe and mlx5;
# -txrtlmt on cxgbe (the lagg, mlx5 and the vlan follow), a rate change
# re-evaluates and drops the tag, txrtlmt on the lagg, a rate change
# allocates again; then the vlan itself off and on.
seed t6_ifcap "\x06\x00\x04\x02\x00\x02\x04\x00\x0b\xb8\x80\x00\x00\x04\x00\x05\xdc\x02\x00\x03\x04\x00\x05\xdc\x80\x02\x01\x02\x00\x02\x04\x00\x05\xdc\x80\x03\x00\x02\x00\x03\x04\x00\x05\xdc\x80\x03\x01${done_}"
