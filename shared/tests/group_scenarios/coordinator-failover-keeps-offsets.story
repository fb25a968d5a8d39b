# The coordinator's broker dies: the new leader of the group's __consumer_offsets partition
# rebuilds the group and its committed offsets from the log; the members find it and go on.
cluster partitions=2
produce 10
member a assignor=range
wait 2000
expect processed 10
expect committed sim-0=5 sim-1=5
crash-broker coordinator
wait 3000
expect coordinator-moved
expect committed sim-0=5 sim-1=5
produce 4
wait 2000
# Nothing processed twice: it resumed where it had committed.
expect processed 14
heal-broker old-coordinator
check
