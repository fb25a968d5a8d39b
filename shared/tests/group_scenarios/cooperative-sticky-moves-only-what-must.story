# Cooperative-sticky: when c joins, a and b keep consuming; each revokes only the one partition
# that must move (first rebalance), and c gets them in the second.
cluster partitions=6
produce 6
member a assignor=cooperative-sticky
member b assignor=cooperative-sticky
wait 2000
expect assignment a sim-0,sim-2,sim-4
expect assignment b sim-1,sim-3,sim-5
member c assignor=cooperative-sticky
wait 3000
expect assignment a sim-0,sim-2
expect assignment b sim-1,sim-3
expect assignment c sim-4,sim-5
expect processed 6
check
