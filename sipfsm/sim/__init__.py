"""The call-flow simulator: user agents built from the declared machines, a virtual clock,
a faulty network, and ladder diagrams of what happened."""
