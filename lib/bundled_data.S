/* The bundled endpoint list, embedded read-only into every binary. */
	.section .rodata
	.global m365_bundled_json
	.type m365_bundled_json, @object
	.balign 16
m365_bundled_json:
	.incbin BUNDLED_FILE
	.byte 0
	.global m365_bundled_json_end
m365_bundled_json_end:
	.section .note.GNU-stack,"",@progbits
