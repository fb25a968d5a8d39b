# The leader crashes; acks=all records were on the in-sync followers, so the new leader has them.
cluster
produce a
produce b
produce c
expect outcome acked
crash leader
wait 3000
expect isr [0,1]
produce d
expect outcome acked
expect committed a b c d
heal old-leader
wait 1000
expect log old-leader a b c d
check
