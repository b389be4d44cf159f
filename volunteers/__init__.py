"""群防群治:
volunteers, teams, claim-style patrols, duty posts, service records, points (issue 18).
"""
