# A member that crashes says nothing: the coordinator notices when its session (1.5 s here)
# times out, and only then rebalances its partitions to the others, who resume from the
# committed offsets (what the crashed member processed but had not committed is processed again).
cluster partitions=3
produce 6
member a assignor=range
member b assignor=range
wait 2000
expect assignment a sim-0,sim-1
expect assignment b sim-2
crash a
produce 6
wait 1000
# Still its session: nobody reads sim-0 and sim-1 yet.
expect assignment b sim-2
wait 2000
expect assignment b sim-0,sim-1,sim-2
expect processed 12
check
