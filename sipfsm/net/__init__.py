"""Layer 6: sipfsm on the wire. A network binding for the sans-IO elements (`host`: an
asyncio `Host` that runs an `sipfsm.elements.endpoint.Endpoint` or a
`sipfsm.elements.proxy.Proxy` over UDP and TCP, with the event loop's clock driving their
timers), the translation between the model's names and real addresses (`codec`), a live
user agent or proxy (`serve`) and a tester that plays a peer against a real stack
(`probe`, its reports in `report`).

Import rule: values, decl, machines, engine and elements, never sim, check or render (layer
6 packages do not import each other). This is the only package besides the simulator that
opens sockets or reads a clock.
"""
