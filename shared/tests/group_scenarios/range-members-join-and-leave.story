# Range: per topic, contiguous ranges; the first members get one extra. Members come and go.
cluster partitions=4
produce 8
member a assignor=range
member b assignor=range
member c assignor=range
wait 2000
# Member ids sort a, b, c: a gets two, b and c one each.
expect assignment a sim-0,sim-1
expect assignment b sim-2
expect assignment c sim-3
expect state Stable
expect processed 8
close b
wait 2000
expect assignment a sim-0,sim-1
expect assignment c sim-2,sim-3
restart b
wait 2000
expect assignment b sim-2
expect processed 8
check
