# Models arrive with the petitions issue.
