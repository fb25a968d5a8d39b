# unclean.leader.election.enable=true: with every in-sync replica down, a lagging replica becomes
# leader; committed records it never had are gone, and the others truncate to its log.
cluster unclean=true fsync=true
produce a
cut broker-1
wait 2500
produce b
produce c
expect outcome acked
crash broker-0
crash broker-2
wait 3000
heal broker-1
wait 500
expect leader broker-1
heal broker-0
heal broker-2
wait 2000
expect committed a
check
