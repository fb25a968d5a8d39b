# min.insync.replicas=2: with two of three replicas gone the leader refuses acks=all writes
# before appending (NOT_ENOUGH_REPLICAS), and accepts them again once a follower is back.
cluster min-isr=2
produce a
crash broker-1
wait 3000
produce b
expect outcome acked
crash broker-2
wait 3000
produce c
expect outcome NOT_ENOUGH_REPLICAS
heal broker-1
wait 2000
produce d
expect outcome acked
expect committed a b d
check
