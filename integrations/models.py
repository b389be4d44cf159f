# Models arrive with the integrations issue (Open311, hotline intake, webhooks, API keys).
