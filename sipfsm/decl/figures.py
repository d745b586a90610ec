"""The RFC figures, verbatim, shown above the tables that encode them.

Sources: RFC 3261 §17 Figures 5-8, RFC 6026 §8 (new Figures 5 and 7), RFC 5407 §2
Figures 1 and 2. Kept only for display: the machines are the declarations, not these.
"""

ICT_RFC3261 = """\
                               |INVITE from TU
             Timer A fires     |INVITE sent
             Reset A,          V                      Timer B fires
             INVITE sent +-----------+                or Transport Err.
               +---------|           |---------------+inform TU
               |         |  Calling  |               |
               +-------->|           |-------------->|
                         +-----------+ 2xx           |
                            |  |       2xx to TU     |
                            |  |1xx                  |
    300-699 +---------------+  |1xx to TU            |
   ACK sent |                  |                     |
resp. to TU |  1xx             V                     |
            |  1xx to TU  -----------+               |
            |  +---------|           |               |
            |  |         |Proceeding |-------------->|
            |  +-------->|           | 2xx           |
            |            +-----------+ 2xx to TU     |
            |       300-699    |                     |
            |       ACK sent,  |                     |
            |       resp. to TU|                     |
            |                  |                     |      NOTE:
            |  300-699         V                     |
            |  ACK sent  +-----------+Transport Err. |  transitions
            |  +---------|           |Inform TU      |  labeled with
            |  |         | Completed |-------------->|  the event
            |  +-------->|           |               |  over the action
            |            +-----------+               |  to take
            |              ^   |                     |
            |              |   | Timer D fires       |
            +--------------+   | -                   |
                               |                     |
                               V                     |
                         +-----------+               |
                         |           |               |
                         | Terminated|<--------------+
                         |           |
                         +-----------+

                 Figure 5: INVITE client transaction
"""

NICT = """\
                          |Request from TU
                          |send request
      Timer E             V
      send request  +-----------+
          +---------|           |-------------------+
          |         |  Trying   |  Timer F          |
          +-------->|           |  or Transport Err.|
                    +-----------+  inform TU        |
       200-699         |  |                         |
       resp. to TU     |  |1xx                      |
       +---------------+  |resp. to TU              |
       |                  |                         |
       |   Timer E        V       Timer F           |
       |   send req +-----------+ or Transport Err. |
       |  +---------|           | inform TU         |
       |  |         |Proceeding |------------------>|
       |  +-------->|           |-----+             |
       |            +-----------+     |1xx          |
       |              |      ^        |resp to TU   |
       | 200-699      |      +--------+             |
       | resp. to TU  |                             |
       |              |                             |
       |              V                             |
       |            +-----------+                   |
       |            |           |                   |
       |            | Completed |                   |
       |            |           |                   |
       |            +-----------+                   |
       |              ^   |                         |
       |              |   | Timer K                 |
       +--------------+   | -                       |
                          |                         |
                          V                         |
    NOTE:           +-----------+                   |
                    |           |                   |
transitions         | Terminated|<------------------+
labeled with        |           |
the event           +-----------+
over the action
to take

        Figure 6: non-INVITE client transaction
"""

IST_RFC3261 = """\
                   |INVITE
                   |pass INV to TU
INVITE             V send 100 if TU won't in 200ms
send response+-----------+
    +--------|           |--------+101-199 from TU
    |        | Proceeding|        |send response
    +------->|           |<-------+
             |           |          Transport Err.
             |           |          Inform TU
             |           |--------------->+
             +-----------+                |
300-699 from TU |     |2xx from TU        |
send response   |     |send response      |
                |     +------------------>+
                |                         |
INVITE          V          Timer G fires  |
send response+-----------+ send response  |
    +--------|           |--------+       |
    |        | Completed |        |       |
    +------->|           |<-------+       |
             +-----------+                |
                |     |                   |
            ACK |     |                   |
            -   |     +------------------>+
                |        Timer H fires    |
                V        or Transport Err.|
             +-----------+  Inform TU     |
             |           |                |
             | Confirmed |                |
             |           |                |
             +-----------+                |
                   |                      |
                   |Timer I fires         |
                   |-                     |
                   |                      |
                   V                      |
             +-----------+                |
             |           |                |
             | Terminated|<---------------+
             |           |
             +-----------+

  Figure 7: INVITE server transaction
"""

NIST = """\
                      |Request received
                      |pass to TU
                      V
                +-----------+
                |           |
                | Trying    |-------------+
                |           |             |
                +-----------+             |200-699 from TU
                      |                   |send response
                      |1xx from TU        |
                      |send response      |
                      |                   |
   Request            V      1xx from TU  |
   send response+-----------+send response|
       +--------|           |--------+    |
       |        | Proceeding|        |    |
       +------->|           |<-------+    |
+<--------------|           |             |
|Trnsprt Err    +-----------+             |
|Inform TU            |                   |
|                     |                   |
|                     |200-699 from TU    |
|                     |send response      |
|  Request            V                   |
|  send response+-----------+             |
|      +--------|           |             |
|      |        | Completed |<------------+
|      +------->|           |
+<--------------|           |
|Trnsprt Err    +-----------+
|Inform TU            |
|                     |Timer J fires
|                     |-
|                     |
|                     V
|               +-----------+
|               |           |
+-------------->| Terminated|
                |           |
                +-----------+

    Figure 8: non-INVITE server transaction
"""

ICT_RFC6026 = """\
                                 |INVITE from TU
               Timer A fires     |INVITE sent      Timer B fires
               Reset A,          V                 or Transport Err.
               INVITE sent +-----------+           inform TU
                 +---------|           |--------------------------+
                 |         |  Calling  |                          |
                 +-------->|           |-----------+              |
300-699                    +-----------+ 2xx       |              |
ACK sent                      |  |       2xx to TU |              |
resp. to TU                   |  |1xx              |              |
+-----------------------------+  |1xx to TU        |              |
|                                |                 |              |
|                1xx             V                 |              |
|                1xx to TU +-----------+           |              |
|                +---------|           |           |              |
|                |         |Proceeding |           |              |
|                +-------->|           |           |              |
|                          +-----------+ 2xx       |              |
|         300-699             |    |     2xx to TU |              |
|         ACK sent,  +--------+    +---------------+              |
|         resp. to TU|                             |              |
|                    |                             |              |
|                    V                             V              |
|              +-----------+                   +----------+       |
+------------->|           |Transport Err.     |          |       |
               | Completed |Inform TU          | Accepted |       |
            +--|           |-------+           |          |-+     |
    300-699 |  +-----------+       |           +----------+ |     |
    ACK sent|    ^  |              |               |  ^     |     |
            |    |  |              |               |  |     |     |
            +----+  |              |               |  +-----+     |
                    |Timer D fires |  Timer M fires|    2xx       |
                    |-             |             - |    2xx to TU |
                    +--------+     |   +-----------+              |
   NOTE:                     V     V   V                          |
Transitions                 +------------+                        |
are labeled                 |            |                        |
with the event              | Terminated |<-----------------------+
over the action             |            |
to take.                    +------------+

                 Figure 5: INVITE client transaction
"""

IST_RFC6026 = """\
                                   |INVITE
                                   |pass INV to TU
                INVITE             V send 100 if TU won't in 200 ms
                send response+------------+
                    +--------|            |--------+ 101-199 from TU
                    |        |            |        | send response
                    +------->|            |<-------+
                             | Proceeding |
                             |            |--------+ Transport Err.
                             |            |        | Inform TU
                             |            |<-------+
                             +------------+
                300-699 from TU |    |2xx from TU
                send response   |    |send response
                 +--------------+    +------------+
                 |                                |
INVITE           V          Timer G fires         |
send response +-----------+ send response         |
     +--------|           |--------+              |
     |        |           |        |              |
     +------->| Completed |<-------+      INVITE  |  Transport Err.
              |           |               -       |  Inform TU
     +--------|           |----+          +-----+ |  +---+
     |        +-----------+    | ACK      |     | v  |   v
     |          ^   |          | -        |  +------------+
     |          |   |          |          |  |            |---+ ACK
     +----------+   |          |          +->|  Accepted  |   | to TU
     Transport Err. |          |             |            |<--+
     Inform TU      |          V             +------------+
                    |      +-----------+        |  ^     |
                    |      |           |        |  |     |
                    |      | Confirmed |        |  +-----+
                    |      |           |        |  2xx from TU
      Timer H fires |      +-----------+        |  send response
      -             |          |                |
                    |          | Timer I fires  |
                    |          | -              | Timer L fires
                    |          V                | -
                    |        +------------+     |
                    |        |            |<----+
                    +------->| Terminated |
                             |            |
                             +------------+

                 Figure 7: INVITE server transaction
"""

DIALOG_CALLER = """\
INV +-----------------------------------------------+
--->|                 Preparative                   |
    +-----------------------------------------------+
      |                    |                      |
      | 3xx-6xx            | 1xx-tag              | 2xx
      |                    |                      |
      |                    |        1xx-tag       |
      |                    V        w/new tag     |
      |         +-----------------+  [new DSM]    |
      | 3xx-6xx |                 |   | (new DSM  |
      +<--------|      Early      |   |  instance |
      |         |                 |<--+  created) |
      |         +-----------------+               |
      |            |             |                |  2xx w/new tag
      |            | BYE         | 2xx            |   [new DSM]
      |            |             +------------>+<-+      | (new DSM
      |            |                           |         |  instance
+-----C------------C-----+         +-----------C------+  |  created)
|     | Terminated |     |         | Confirmed |      |  |
|     |            +<----C---------|           |      |  |
|     |            |     | BYE(sr) |           |      |  |
|     |            V     |         |           V      |  |
| 2xx |  +-----------+   |         |   +-----------+  |  |
| +---C--|           |---C-+       |   |           |  |  |
| |   |  |   Mortal  |   | | BYE(r)|   | Moratorium|<-C--+
| +---C->|           |<--C-+       |   |           |  |
| ACK |  +-----------+   |         |   +-----------+  |
|     |    |             |         |         |        |
|     |    | Timeout     |         |         | ACK    |
|     |    |             |         |         |        |
|     V    V             |         |         V        |
|   +---------------+    |         |   +-----------+  |
|   |               |    |         |   |           |--C-+
|   |     Morgue    |    |         |   |Established|  | | 2xx,ACK
|   |               |    |         |   |           |<-C-+
|   +---------------+    |         |   +-----------+  |
|                        |         |                  |
+------------------------+         +------------------+

(r): indicates that only reception is allowed.
     Where (r) is not used as an indicator, "response" means
     receive, and "request" means send.
(sr): indicates that both sending and reception are allowed.

          Figure 1: DSM for INVITE dialog usage (caller)
"""

DIALOG_CALLEE = """\
INV +-----------------------------------------------+
--->|                 Preparative                   |
    +-----------------------------------------------+
      |                         |                 |
      | 3xx-6xx                 | 1xx-tag         | 2xx
      |                         |                 |
      |                         V                 |
      |         +------------------+              |
      | 3xx-6xx |                  |              |
      +<--------|      Early       |              |
      |         |                  |              |
      |         +------------------+              |
      |            |             |                |
      |            |BYE/487(INV) | 2xx            |
      |            |             +------------>+<-+
      |            |                           |
+-----C------------C-----+         +-----------C------+
|     | Terminated |     |         | Confirmed |      |
|     |            +<----C---------|           |      |
|     |            |     | BYE(sr) |           |      |
|     |            V     |         |           V      |
|     | +------------+   |         |   +-----------+  |
|     | |            |---C-+       |   |           |--C-+
|     | |   Mortal   |   | | BYE   |   | Moratorium|  | | 2xx
|     | |            |<--C-+       |   |           |<-C-+ if ACK not
|     | +------------+   |         |   +-----------+  |   received
|     |   |              |         |         |        |
|     |   | Timeout      |         |         | ACK    |
|     |   |              |         |         |        |
|     V   V              |         |         V        |
|   +---------------+    |         |   +-----------+  |
|   |               |    |         |   |           |  |
|   |     Morgue    |    |         |   |Established|  |
|   |               |    |         |   |           |  |
|   +---------------+    |         |   +-----------+  |
|                        |         |                  |
+------------------------+         +------------------+

 (sr): indicates that both sending and reception are allowed.
      Where (sr) is not used as an indicator, "response" means send,
      and "request" means receive.

          Figure 2: DSM for INVITE dialog usage (callee)
"""
