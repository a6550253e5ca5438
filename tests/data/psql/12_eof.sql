SELECT 'no semicolon'
