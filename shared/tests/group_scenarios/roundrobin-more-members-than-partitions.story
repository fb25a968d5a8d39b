# More members than partitions: roundrobin deals two partitions to the first two; the third idles
# until one of them goes.
cluster partitions=2
produce 4
member a assignor=roundrobin
member b assignor=roundrobin
member c assignor=roundrobin
wait 2000
expect assignment a sim-0
expect assignment b sim-1
expect assignment c none
close a
wait 2000
expect assignment b sim-0
expect assignment c sim-1
produce 4
wait 1000
expect processed 8
check
