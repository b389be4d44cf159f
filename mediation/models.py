# Models arrive with the mediation issue.
