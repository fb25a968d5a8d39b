# acks=1 answers before replicating: if the leader dies before its followers fetch, the
# acknowledged record is gone after the failover.
cluster
produce a
cut leader
produce lost-1 acks=1
expect outcome acked
crash old-leader
wait 3000
expect committed a
produce b
heal old-leader
wait 1000
expect log old-leader a b
check
