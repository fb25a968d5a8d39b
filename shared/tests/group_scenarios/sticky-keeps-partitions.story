# Sticky: balanced, and when a member leaves the others keep everything they had.
cluster partitions=6
produce 6
member a assignor=sticky
member b assignor=sticky
member c assignor=sticky
wait 2000
expect assignment a sim-0,sim-3
expect assignment b sim-1,sim-4
expect assignment c sim-2,sim-5
close b
wait 2000
expect assignment a sim-0,sim-1,sim-3
expect assignment c sim-2,sim-4,sim-5
check
