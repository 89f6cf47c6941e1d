// The counter: buttons change a number; past 10 a note shows.
(function () {
	var count = 0;
	var out = document.getElementById('count');
	var note = document.getElementById('note');
	var step = document.getElementById('step');

	function show() {
		out.textContent = String(count);
		note.hidden = count <= 10;
		document.title = 'Tally (' + count + ')';
	}
	function by() {
		var n = parseInt(step.value, 10);
		return n >= 1 && n <= 10 ? n : 1;
	}
	document.getElementById('inc').addEventListener('click', function () { count += by(); show(); });
	document.getElementById('dec').addEventListener('click', function () { count = Math.max(0, count - by()); show(); });
	document.getElementById('reset').addEventListener('click', function () { count = 0; show(); });
	show();
})();
