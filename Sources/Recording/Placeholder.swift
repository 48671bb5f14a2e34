// Filled by the MCAP work (issue 3).
