# A leader cut off with an uncommitted record (sent with acks=0) loses its leadership; the new leader writes another
# record at that offset; when the old leader returns it truncates at the divergence (KIP-320) and
# rejoins the ISR.
cluster
produce a
cut leader
produce orphan acks=0
wait 20
heal old-leader
isolate old-leader
wait 3000
produce b
expect outcome acked
heal old-leader
wait 2000
expect log old-leader a b
expect isr [0,1,2]
check
