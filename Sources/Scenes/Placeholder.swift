// Filled by the scene generator work (issue 3).
