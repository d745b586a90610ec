"""sipfsm: the executable reference model of SIP transactions and dialogs."""
