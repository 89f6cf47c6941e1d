// The app's pages as file:// URLs: the suite needs no server and no network.
const path = require('path');
const { pathToFileURL } = require('url');

exports.page = (name) => pathToFileURL(path.join(__dirname, '..', 'app', name)).href;
