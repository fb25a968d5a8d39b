# A leader that stops (a long GC pause) is fenced and replaced; when it wakes it still thinks it
# leads, until the controller's state reaches it: then it follows the new leader, with the
# records written meanwhile. Nothing acknowledged is lost.
cluster
produce a
pause leader
wait 3000
expect leader broker-0
produce b
expect outcome acked
heal old-leader
wait 1000
expect log old-leader a b
expect isr [0,1,2]
check
