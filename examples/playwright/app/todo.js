// The to-do list: add items, tick them off, clear the done ones.
(function () {
	var list = document.getElementById('items');
	var left = document.getElementById('left');

	function update() {
		left.textContent = String(list.querySelectorAll('li:not(.done)').length);
	}
	document.getElementById('add').addEventListener('submit', function (e) {
		var what = document.getElementById('what');
		var text = what.value.trim();

		e.preventDefault();
		if (!text)
			return;
		var li = document.createElement('li');
		var box = document.createElement('input');
		box.type = 'checkbox';
		box.setAttribute('aria-label', 'done: ' + text);
		box.addEventListener('change', function () { li.classList.toggle('done', box.checked); update(); });
		li.appendChild(box);
		li.appendChild(document.createTextNode(' ' + text));
		list.appendChild(li);
		what.value = '';
		update();
	});
	document.getElementById('clear').addEventListener('click', function () {
		list.querySelectorAll('li.done').forEach(function (li) { li.remove(); });
		update();
	});
	update();
})();
