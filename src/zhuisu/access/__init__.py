"""Who may do what: users, sessions, API keys, roles and the rules that decide what each may read and write."""
