"""Discovery (issue 17): find devices within a site's configured ranges and propose them."""
