Bst_finalJbN<@ßËü@R")À±ATÀÜAÃ?
vX@