# kafka-consumer-groups --reset-offsets: refused while the group is active; once it is empty,
# to-earliest makes the next member process everything again; shift-by moves back from there.
cluster partitions=2
produce 6
member a assignor=range
wait 2000
expect processed 6
reset-offsets to-earliest
close a
wait 1000
expect state Empty
reset-offsets to-earliest
expect committed sim-0=0 sim-1=0
restart a
wait 2000
expect processed 12
close a
wait 1000
reset-offsets shift-by -1
expect committed sim-0=2 sim-1=2
reset-offsets to-latest
expect committed sim-0=3 sim-1=3
check
