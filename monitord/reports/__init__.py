"""Reports: the monthly contract report (R2), the ticket record (R1), service and operation logs (R3).

Figures are computed by pure functions from what the store recorded (`figures`,
`availability`, `monthly`); rendering (`html`, `markdown`, `svg`, `pdf`) only formats them.
"""
