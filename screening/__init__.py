"""矛盾纠纷排查: disputes found by screening, risk colours, early warning (issue 20)."""
