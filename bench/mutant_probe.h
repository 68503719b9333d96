/* bench mutants: forced into each mutant's compile (-include). */
void	sndtag_mutant_reached(void);
