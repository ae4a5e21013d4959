"""Person, organisation, membership: the models below authn and every capability."""
