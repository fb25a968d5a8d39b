# The preferred leader (the first replica) crashes and comes back; the controller's periodic
# check hands leadership back to it once it is in sync.
cluster
produce a
crash leader
wait 3000
heal old-leader
wait 6000
expect leader old-leader
produce b
expect committed a b
check
